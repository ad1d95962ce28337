"""The key every user's data is stored, ordered and reduced under."""

from __future__ import annotations

__all__ = ["UserKey"]

UserKey = tuple[str, str]
"""(tenantId, userId): the unit of ordering, storage and reduction."""
