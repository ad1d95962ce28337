"""Trusted token issuers as values: an OpenID-style provider a tenant accepts user tokens from.

A tenant names the issuer (`iss`), the audiences its app's tokens carry (`aud`), the
signature algorithms it accepts, where the public keys come from (a JWKS URL, or the key
set itself for air-gapped setups) and which claim, with an optional prefix, is the userId.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from shared.domain.ids import is_valid_id
from shared.domain.tenants import TenantError

__all__ = [
    "ISSUER_ALGORITHMS",
    "IssuerNotFound",
    "IssuerTaken",
    "TrustedIssuer",
    "valid_algorithms",
    "valid_inline_jwks",
    "valid_issuer_name",
    "valid_jwks_url",
]

ISSUER_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
"""The signature algorithms a trusted issuer may use: public-key ones only, never `none` or
an HMAC (which would let anyone holding the public key sign)."""

_MAX_NAME_CHARS = 512
_LOOPBACK_NAMES = frozenset({"localhost"})


class IssuerTaken(TenantError):
    """Another registration (of this tenant or another) already holds an (`iss`, `aud`) pair."""


class IssuerNotFound(TenantError):
    """The tenant trusts no issuer with this `iss`."""


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One tenant's trust in one issuer: what its tokens must carry and where its keys are."""

    tenant_id: str
    issuer: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...]
    jwks_url: str | None = None
    jwks_json: str | None = None
    """The inline key set, as JSON text (hashable, so parsed sets can be cached by it)."""
    user_claim: str = "sub"
    user_prefix: str = ""

    def user_id(self, claims: Mapping[str, Any]) -> str | None:
        """The userId a verified token names (prefix applied), or None if it names none."""
        value = claims.get(self.user_claim)
        if not isinstance(value, str) or not value:
            return None
        user_id = self.user_prefix + value
        return user_id if is_valid_id(user_id) else None


def valid_issuer_name(value: str, what: str) -> str:
    """Check an `iss`, an `aud`, a claim name or a prefix: printable, at most 512 characters.

    Raises:
        ValueError: Naming `what`, if it is empty, too long or holds control characters.
    """
    if not value or len(value) > _MAX_NAME_CHARS or not value.isprintable():
        raise ValueError(f"{what} must be 1-{_MAX_NAME_CHARS} printable characters")
    return value


def valid_algorithms(names: Iterable[str]) -> tuple[str, ...]:
    """Check the algorithms an issuer may sign with; canonical order, no repeats.

    Raises:
        ValueError: If there is none, or one is not RS256, ES256 or EdDSA (`none` and HMAC
            algorithms are refused by name, with why).
    """
    chosen = set(names)
    refused = sorted(chosen.difference(ISSUER_ALGORITHMS))
    if refused:
        raise ValueError(
            f"algorithm(s) {', '.join(refused)} not accepted: an issuer's tokens must be signed "
            f"with a private key ({', '.join(ISSUER_ALGORITHMS)}); never 'none' or HS*"
        )
    if not chosen:
        raise ValueError("an issuer needs at least one algorithm")
    return tuple(name for name in ISSUER_ALGORITHMS if name in chosen)


def valid_jwks_url(url: str, allow_loopback_http: bool) -> str:
    """Check where an issuer's keys are fetched from: https, or http on loopback if allowed.

    Raises:
        ValueError: If the URL is not https (or allowed loopback http) or names no host.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"JWKS URL {url!r} names no host")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_loopback_http and _is_loopback(parts.hostname):
        return url
    allowed = "https" + (" (or http on a loopback address)" if allow_loopback_http else "")
    raise ValueError(f"JWKS URL {url!r} must use {allowed}")


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def valid_inline_jwks(text: str) -> str:
    """Check an inline key set: JSON with public RSA, EC or OKP keys that PyJWT can use.

    Returns:
        The key set as compact JSON text.

    Raises:
        ValueError: If it is not a JWKS, holds a symmetric or private key, or no usable key.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the inline JWKS is not JSON: {error}") from error
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError("the inline JWKS must be an object with a non-empty 'keys' array")
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in {"RSA", "EC", "OKP"}:
            raise ValueError("every inline JWKS key must be an RSA, EC or OKP public key")
        if "d" in key:
            raise ValueError("the inline JWKS holds a private key: give the public keys only")
    try:
        jwt.PyJWKSet(keys)
    except jwt.PyJWTError as error:
        raise ValueError(f"the inline JWKS has no usable key: {error}") from error
    return json.dumps(document, separators=(",", ":"), sort_keys=True)
