"""Tenants and their credentials as values, and the rules they follow.

A tenant has API keys, stored only as SHA-256 hashes, and one signing secret for user
tokens. A plain key or secret exists outside its owner's hands only once: in the value
`issue_key` or `new_tenant` returns, which the caller prints and drops. Fresh keys and
secrets come from `secrets` (the operating system's randomness); the time is passed in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from .ids import TenantId

__all__ = [
    "ALL_SCOPES",
    "API_KEY_PREFIX",
    "BOOTSTRAP_KEY_ID",
    "SIGNING_SECRET_MIN_BYTES",
    "ApiKeyGrant",
    "IssuedKey",
    "KeyNotFound",
    "KeySummary",
    "NewTenant",
    "StoredKey",
    "TenantError",
    "TenantExists",
    "TenantNotFound",
    "TenantRecord",
    "TenantSummary",
    "bootstrap_record",
    "hash_api_key",
    "issue_key",
    "new_key_id",
    "new_signing_secret",
    "new_tenant",
    "valid_scopes",
    "valid_signing_secret",
    "valid_tenant_id",
]

ALL_SCOPES: tuple[str, ...] = ("write", "read", "admin")
API_KEY_PREFIX = "psk_"
"""Marks a Progress Sync API key, so a leaked one is recognisable (e.g. by secret scanners)."""

SIGNING_SECRET_MIN_BYTES = 32
"""Shortest HS256 signing secret accepted (RFC 7518 asks for a key as long as the hash)."""

BOOTSTRAP_KEY_ID = "bootstrap"
"""The id of the key a bootstrap tenant is created with."""

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
class StoredKey:
    """An API key as the store keeps it: id, hash, scopes and creation time, never the key."""

    key_id: str
    key_hash: str
    scopes: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """A whole tenant as the store keeps it when it is created."""

    tenant_id: str
    created_at: datetime
    signing_secret: str = field(repr=False)
    keys: tuple[StoredKey, ...]


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

    def key(self, key_id: str) -> KeySummary | None:
        """The tenant's key with this id, or None if it has none."""
        return next((key for key in self.keys if key.key_id == key_id), None)


def issue_key(key_id: str, scopes: Iterable[str], now: datetime) -> tuple[IssuedKey, StoredKey]:
    """A random API key under this id and scopes, and what the store keeps of it (its hash).

    The scopes are taken as given: check them first with `valid_scopes`.
    """
    issued = IssuedKey(
        key_id=key_id,
        scopes=tuple(scopes),
        api_key=API_KEY_PREFIX + secrets.token_urlsafe(_KEY_ENTROPY_BYTES),
    )
    return issued, StoredKey(key_id, hash_api_key(issued.api_key), issued.scopes, now)


def new_key_id() -> str:
    """A fresh key id, e.g. `key-1a2b3c4d`."""
    return f"key-{secrets.token_hex(4)}"


def new_signing_secret() -> str:
    """A fresh HS256 signing secret (48 random bytes, URL-safe)."""
    return secrets.token_urlsafe(_SECRET_ENTROPY_BYTES)


def new_tenant(
    tenant_id: str, scopes: Iterable[str], now: datetime
) -> tuple[NewTenant, TenantRecord]:
    """A tenant with one new API key of these scopes and a new signing secret.

    Returns:
        What to hand out once (key and secret in plain text), and what to store.

    Raises:
        ValueError: If the id or a scope is invalid.
    """
    tenant_id = valid_tenant_id(tenant_id)
    issued, stored = issue_key(new_key_id(), valid_scopes(scopes), now)
    secret = new_signing_secret()
    return (
        NewTenant(tenant_id=tenant_id, key=issued, signing_secret=secret),
        TenantRecord(tenant_id, now, secret, (stored,)),
    )


def bootstrap_record(
    tenant_id: str, api_key: str, signing_secret: str, now: datetime
) -> TenantRecord:
    """A tenant whose one key, `bootstrap` with every scope, is a configured API key.

    Raises:
        ValueError: If the id is invalid or the secret too short.
    """
    key = StoredKey(BOOTSTRAP_KEY_ID, hash_api_key(api_key), ALL_SCOPES, now)
    return TenantRecord(
        valid_tenant_id(tenant_id), now, valid_signing_secret(signing_secret), (key,)
    )
