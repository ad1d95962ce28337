"""What a write costs: one token of its user's and its tenant's budgets per derived event."""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["Charge"]

Charge = Callable[[Mapping[str, int], int], None]
"""Charges each userId its derived events, and the tenant the given cost (at least one).

Called by a use case once it knows what a request derives and before anything is stored or
sent; it raises to refuse the request (the gateway's 429), and then nothing happened.
"""
