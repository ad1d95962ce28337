"""Who is calling: a tenant API key with scopes, or a user token (HS256 JWT) for one user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import jwt

from services.gateway.errors import ApiError
from shared.adapters.tenants import ALL_SCOPES, ApiKeyGrant, valid_tenant_id

__all__ = ["CredentialSource", "Principal", "authenticate", "require"]

_USER_TOKEN_SCOPES = frozenset({"read", "write"})
_REQUIRED_CLAIMS = ("sub", "tid", "exp", "iat")


class CredentialSource(Protocol):
    """Where API keys and signing secrets are looked up."""

    async def grant_for_key(self, api_key: str) -> ApiKeyGrant | None:
        """The grant of a key, or None."""
        ...

    async def signing_secret(self, tenant_id: str) -> str | None:
        """A tenant's HS256 secret, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: always one tenant; a user token also pins one user."""

    tenant_id: str
    scopes: frozenset[str]
    user_id: str | None = None

    @property
    def is_api_key(self) -> bool:
        """True for a tenant API key, False for a user token."""
        return self.user_id is None


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def _tenant_of(token: str) -> str:
    """The `tid` claim, read before the signature can be checked (it names the secret)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    tenant_id = claims.get("tid")
    if not isinstance(tenant_id, str):
        raise _unauthorized("user token lacks the 'tid' claim")
    try:
        return valid_tenant_id(tenant_id)
    except ValueError as error:
        raise _unauthorized("user token's 'tid' is not a valid tenant id") from error


async def _user_token(token: str, tenants: CredentialSource, max_lifetime: int) -> Principal:
    try:
        tenant_id = _tenant_of(token)
        secret = await tenants.signing_secret(tenant_id)
        if secret is None:
            raise _unauthorized("user token names an unknown tenant")
        verified = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": list(_REQUIRED_CLAIMS)}
        )
    except jwt.ExpiredSignatureError as error:
        raise _unauthorized("user token has expired") from error
    except jwt.MissingRequiredClaimError as error:
        raise _unauthorized(f"user token lacks the '{error.claim}' claim") from error
    except jwt.PyJWTError as error:
        raise _unauthorized(f"user token is invalid: {error}") from error
    subject = verified["sub"]
    if not isinstance(subject, str) or not subject:
        raise _unauthorized("user token's 'sub' must be the userId")
    lifetime = verified["exp"] - verified["iat"]
    if lifetime > max_lifetime:
        raise _unauthorized(
            f"user token lives {lifetime:g}s from 'iat' to 'exp'; at most {max_lifetime}s "
            "is accepted (PROGRESS_USER_TOKEN_MAX_LIFETIME_SECONDS)"
        )
    return Principal(tenant_id=tenant_id, scopes=_USER_TOKEN_SCOPES, user_id=subject)


async def authenticate(
    authorization: str | None, tenants: CredentialSource, max_token_lifetime: int
) -> Principal:
    """Resolve an `Authorization: Bearer …` header; raise 401 for a missing or bad one.

    A user token must carry `sub`, `tid`, `iat` and `exp`, and live no longer than
    `max_token_lifetime` seconds from `iat` to `exp`, so a leaked token cannot be forever.
    """
    if not authorization:
        raise _unauthorized("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Authorization must be 'Bearer <token>'")
    if token.count(".") == 2:
        return await _user_token(token, tenants, max_token_lifetime)
    grant = await tenants.grant_for_key(token)
    if grant is None:
        raise _unauthorized("unknown API key")
    return Principal(tenant_id=grant.tenant_id, scopes=grant.scopes & frozenset(ALL_SCOPES))


def require(principal: Principal, scope: str, user_id: str | None = None) -> None:
    """Raise 403 unless the caller holds `scope` and, for a user token, is that user."""
    if scope not in principal.scopes:
        raise ApiError(403, "forbidden", f"this credential lacks the '{scope}' scope")
    if principal.user_id is not None and principal.user_id != user_id:
        raise ApiError(403, "forbidden", "a user token may only touch its own user")
