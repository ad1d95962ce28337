"""Erased users are remembered only by a keyed hash, never by their id.

The key is the erasure secret. When it changes, the old ones stay in the key ring (current
first): a tombstone made under any of them still matches. A keyed hash cannot be recomputed
under a new key without the user id, so a rekey wraps the stored hash instead: the wrapped
id is the hash of the old id under the current secret, and nobody holding only an old
secret can match it against guessed user ids any more.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["secret_fingerprint", "tombstone_candidates", "tombstone_id", "wrapped_tombstone_id"]


def tombstone_id(secret: bytes, tenant_id: str, user_id: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) that stands for an erased user of a tenant.

    Without the secret the hash cannot be tied back to a user id by trying likely ids.
    """
    message = f"{tenant_id}\x1f{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def wrapped_tombstone_id(secret: bytes, inner_id: str) -> str:
    """A tombstone id made under an older secret, rekeyed under `secret`."""
    message = f"rekey\x1f{inner_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def secret_fingerprint(secret: bytes) -> str:
    """A short name of a secret, stored with each tombstone; it reveals nothing of the secret."""
    return hmac.new(secret, b"fingerprint", hashlib.sha256).hexdigest()[:16]


def tombstone_candidates(secrets: Sequence[bytes], tenant_id: str, user_id: str) -> list[str]:
    """Every id a tombstone of this user may have under the key ring `secrets`.

    Made under any secret of the ring, or made under one and rekeyed under another (or the
    same: a tombstone whose secret was not recorded is rekeyed too).
    """
    direct = [tombstone_id(secret, tenant_id, user_id) for secret in secrets]
    return direct + [wrapped_tombstone_id(outer, inner) for outer in secrets for inner in direct]
