"""Tenants' credentials as values: API-key grants and summaries, and the rules they follow."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shared.domain.ids import TenantId

__all__ = [
    "ALL_SCOPES",
    "API_KEY_PREFIX",
    "SIGNING_SECRET_MIN_BYTES",
    "ApiKeyGrant",
    "IssuedKey",
    "KeyNotFound",
    "KeySummary",
    "NewTenant",
    "TenantError",
    "TenantExists",
    "TenantNotFound",
    "TenantSummary",
    "hash_api_key",
    "new_key",
    "new_key_id",
    "new_signing_secret",
    "valid_scopes",
    "valid_signing_secret",
    "valid_tenant_id",
]

ALL_SCOPES: tuple[str, ...] = ("write", "read", "admin")
API_KEY_PREFIX = "psk_"
"""Marks a Progress Sync API key, so a leaked one is recognisable (e.g. by secret scanners)."""

SIGNING_SECRET_MIN_BYTES = 32
"""Shortest HS256 signing secret accepted (RFC 7518 asks for a key as long as the hash)."""

_TENANT_ID = TypeAdapter(TenantId)
_KEY_ENTROPY_BYTES = 32
_SECRET_ENTROPY_BYTES = 48


class TenantError(Exception):
    """A tenant operation that cannot be done as asked (the CLI's exit code 1)."""


class TenantNotFound(TenantError):
    """No tenant has this id."""


class TenantExists(TenantError):
    """A tenant with this id already exists, so it cannot be created again."""


class KeyNotFound(TenantError):
    """The tenant has no API key with this id."""


def hash_api_key(api_key: str) -> str:
    """The stored form of an API key. Keys are long random strings, so SHA-256 suffices."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def valid_tenant_id(tenant_id: str) -> str:
    """Check a tenant id against the contract's `TenantId` rule.

    Args:
        tenant_id: The proposed id.

    Returns:
        The id, unchanged.

    Raises:
        ValueError: If it is not 1-64 characters of `a-z`, `0-9`, `_` and `-`.
    """
    try:
        return _TENANT_ID.validate_python(tenant_id)
    except ValidationError as error:
        raise ValueError(
            f"invalid tenant id {tenant_id!r}: use 1-64 characters of a-z, 0-9, '_' and '-'"
        ) from error


def valid_signing_secret(secret: str) -> str:
    """Check that a signing secret is long enough to be worth signing with.

    Args:
        secret: The proposed HS256 secret.

    Returns:
        The secret, unchanged.

    Raises:
        ValueError: If it is shorter than `SIGNING_SECRET_MIN_BYTES` in UTF-8 (the message
            gives its length, never the secret).
    """
    length = len(secret.encode())
    if length < SIGNING_SECRET_MIN_BYTES:
        raise ValueError(
            f"a signing secret needs at least {SIGNING_SECRET_MIN_BYTES} bytes; this one has "
            f"{length} (make one: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return secret


def valid_scopes(scopes: Iterable[str]) -> list[str]:
    """Check a set of API-key scopes and put it in the canonical order.

    Args:
        scopes: Some of `write`, `read`, `admin`, in any order, repeats allowed.

    Returns:
        The distinct scopes, ordered as in `ALL_SCOPES`.

    Raises:
        ValueError: If there is none, or one is not a known scope.
    """
    chosen = set(scopes)
    unknown = chosen.difference(ALL_SCOPES)
    if unknown:
        raise ValueError(
            f"unknown scope(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL_SCOPES)}"
        )
    if not chosen:
        raise ValueError("an API key needs at least one scope")
    return [scope for scope in ALL_SCOPES if scope in chosen]


@dataclass(frozen=True, slots=True)
class ApiKeyGrant:
    """What a valid API key grants: its tenant and scopes."""

    tenant_id: str
    scopes: frozenset[str]
    key_id: str | None = None
    """The key's id (what xAPI clients send as the HTTP Basic user)."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly made API key: the only moment its plain text exists outside the caller."""

    key_id: str
    scopes: tuple[str, ...]
    api_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class NewTenant:
    """What creating a tenant hands out once: its first API key and its signing secret."""

    tenant_id: str
    key: IssuedKey
    signing_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeySummary:
    """An API key as operators may see it: id, scopes, age; never the key or its hash."""

    key_id: str
    scopes: tuple[str, ...]
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class TenantSummary:
    """A tenant as operators may see it: id, creation time and its keys, without secrets."""

    tenant_id: str
    created_at: datetime | None
    keys: tuple[KeySummary, ...]


def new_key(key_id: str, scopes: Iterable[str]) -> tuple[IssuedKey, dict[str, Any]]:
    """A random API key and the document that stores it (hash only)."""
    issued = IssuedKey(
        key_id=key_id,
        scopes=tuple(scopes),
        api_key=API_KEY_PREFIX + secrets.token_urlsafe(_KEY_ENTROPY_BYTES),
    )
    stored = {
        "id": key_id,
        "hash": hash_api_key(issued.api_key),
        "scopes": list(issued.scopes),
        "createdAt": datetime.now(UTC),
    }
    return issued, stored


def new_key_id() -> str:
    """A fresh key id, e.g. `key-1a2b3c4d`."""
    return f"key-{secrets.token_hex(4)}"


def new_signing_secret() -> str:
    """A fresh HS256 signing secret (48 random bytes, URL-safe)."""
    return secrets.token_urlsafe(_SECRET_ENTROPY_BYTES)
