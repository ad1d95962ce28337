"""Erased users are remembered only by a keyed hash, never by their id."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["tombstone_id"]


def tombstone_id(secret: bytes, tenant_id: str, user_id: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) that stands for an erased user of a tenant.

    Without the secret the hash cannot be tied back to a user id by trying likely ids.
    """
    message = f"{tenant_id}\x1f{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
