"""Who is calling: a tenant API key with scopes, or a user token for one user.

A user token is an HS256 JWT signed with the tenant's secret (`tid` names the tenant), or a
token of an issuer the tenant trusts (RS256, ES256, EdDSA; its (`iss`, `aud`) pair names the
tenant). `authenticate` is the one place either is verified: every route that takes a user
token calls it. docs/identity.md lists the error codes a refused token gets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import jwt

from services.gateway.authorization_header import (
    BearerCredentials,
    MalformedBasic,
    parse_authorization,
)
from services.gateway.errors import RETRY_AFTER_SECONDS, ApiError
from shared.adapters.issuer_records import ISSUER_ALGORITHMS, TrustedIssuer
from shared.adapters.jwks import KeysUnavailable, UnknownKey
from shared.adapters.logs import get_logger
from shared.adapters.metrics import USER_TOKEN_REFUSALS
from shared.domain.tenants import ALL_SCOPES, ApiKeyGrant, valid_tenant_id

__all__ = [
    "CredentialSource",
    "Principal",
    "authenticate",
    "authenticate_user_token",
    "require",
]

log = get_logger(__name__)

_USER_TOKEN_SCOPES = frozenset({"read", "write"})
_REQUIRED_CLAIMS = ("sub", "tid", "exp", "iat")
_REQUIRED_ISSUER_CLAIMS = ("iss", "aud", "exp", "iat")


class CredentialSource(Protocol):
    """Where API keys, signing secrets, trusted issuers and their keys are looked up."""

    clock_skew_seconds: int
    """How far `exp`, `nbf` and `iat` may be off this clock."""

    async def grant_for_key(self, api_key: str) -> ApiKeyGrant | None:
        """The grant of a key, or None."""
        ...

    async def signing_secret(self, tenant_id: str) -> str | None:
        """A tenant's HS256 secret, or None."""
        ...

    async def issuers_named(self, issuer: str) -> Sequence[TrustedIssuer]:
        """Every tenant's trust in the issuer `iss`."""
        ...

    async def issuer_key(self, issuer: TrustedIssuer, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The issuer's public key for a `kid` and `alg`; raises UnknownKey, KeysUnavailable."""
        ...


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: always one tenant; a user token also pins one user."""

    tenant_id: str
    scopes: frozenset[str]
    user_id: str | None = None
    expires_at: int | None = None
    """A user token's `exp` (epoch seconds): a live stream ends then. None for an API key."""

    @property
    def is_api_key(self) -> bool:
        """True for a tenant API key, False for a user token."""
        return self.user_id is None


def _unauthorized(message: str, code: str = "unauthorized", field: str | None = None) -> ApiError:
    return ApiError(401, code, message, field=field, headers={"WWW-Authenticate": "Bearer"})


def _tenant_of(claims: Mapping[str, Any]) -> str:
    """The `tid` claim, read before the signature can be checked (it names the secret)."""
    tenant_id = claims.get("tid")
    if not isinstance(tenant_id, str):
        raise _unauthorized("user token lacks the 'tid' claim", field="tid")
    try:
        return valid_tenant_id(tenant_id)
    except ValueError as error:
        raise _unauthorized("user token's 'tid' is not a valid tenant id", field="tid") from error


def _verified(token: str, key: Any, algorithm: str, skew: int, **checks: Any) -> dict[str, Any]:
    """The token's claims once its signature, `exp`, `nbf` and `iat` hold (within `skew`)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[algorithm], leeway=skew, **checks
        )
    except jwt.ExpiredSignatureError as error:
        raise _unauthorized("user token has expired", code="expired", field="exp") from error
    except jwt.InvalidAudienceError as error:
        raise _unauthorized(
            f"user token's 'aud' is not trusted: {error}", "bad_audience", "aud"
        ) from error
    except jwt.MissingRequiredClaimError as error:
        raise _unauthorized(
            f"user token lacks the '{error.claim}' claim", field=error.claim
        ) from error
    except jwt.PyJWTError as error:
        raise _unauthorized(f"user token is invalid: {error}") from error
    return claims


async def _secret_token(
    token: str, claims: Mapping[str, Any], tenants: CredentialSource
) -> Principal:
    """An HS256 token signed with the secret of the tenant its `tid` names."""
    tenant_id = _tenant_of(claims)
    secret = await tenants.signing_secret(tenant_id)
    if secret is None:
        raise _unauthorized("user token names an unknown tenant", field="tid")
    verified = _verified(
        token,
        secret,
        "HS256",
        tenants.clock_skew_seconds,
        options={"require": list(_REQUIRED_CLAIMS)},
    )
    subject = verified["sub"]
    if not isinstance(subject, str) or not subject:
        raise _unauthorized("user token's 'sub' must be the userId", field="sub")
    return Principal(tenant_id=tenant_id, scopes=_USER_TOKEN_SCOPES, user_id=subject)


async def _trusted_issuer(claims: Mapping[str, Any], tenants: CredentialSource) -> TrustedIssuer:
    """The one tenant's trust that the token's `iss`, `aud` (and `tid`, if any) name."""
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise _unauthorized("user token lacks the 'iss' claim", field="iss")
    trusted: Sequence[TrustedIssuer] = await tenants.issuers_named(issuer)
    tenant_id = claims.get("tid")
    if tenant_id is not None:
        trusted = [candidate for candidate in trusted if candidate.tenant_id == tenant_id]
    if not trusted:
        whom = "no tenant" if tenant_id is None else f"tenant {tenant_id!r} does not"
        raise _unauthorized(
            f"{whom} trust{'s' if tenant_id is None else ''} issuer {issuer!r} "
            "(progressctl tenant issuer add)",
            "unknown_issuer",
            "iss",
        )
    audience = claims.get("aud")
    named = audience if isinstance(audience, list) else [audience]
    audiences = {name for name in named if isinstance(name, str)}
    matching = [candidate for candidate in trusted if audiences.intersection(candidate.audiences)]
    if len(matching) != 1:
        accepted = sorted({name for candidate in trusted for name in candidate.audiences})
        raise _unauthorized(
            f"user token's 'aud' must name exactly one audience trusted for issuer {issuer!r} "
            f"({', '.join(accepted)})",
            "bad_audience",
            "aud",
        )
    return matching[0]


async def _issuer_token(
    token: str, header: Mapping[str, Any], claims: Mapping[str, Any], tenants: CredentialSource
) -> Principal:
    """A token of an issuer a tenant trusts, verified with that issuer's published key.

    Only the configured key source is used: `jku`, `x5u` and `jwk` headers are ignored.
    """
    issuer = await _trusted_issuer(claims, tenants)
    algorithm = str(header["alg"])
    if algorithm not in issuer.algorithms:
        raise _unauthorized(
            f"issuer {issuer.issuer!r} is trusted for {', '.join(issuer.algorithms)}, "
            f"not {algorithm}",
            field="alg",
        )
    kid = header.get("kid")
    try:
        key = await tenants.issuer_key(issuer, kid if isinstance(kid, str) else None, algorithm)
    except UnknownKey as error:
        raise _unauthorized(str(error), "unknown_key", "kid") from error
    except KeysUnavailable as error:
        raise ApiError(
            503,
            "issuer_unavailable",
            f"{error}; try again later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from error
    verified = _verified(
        token,
        key,
        algorithm,
        tenants.clock_skew_seconds,
        audience=list(issuer.audiences),
        issuer=issuer.issuer,
        options={"require": list(_REQUIRED_ISSUER_CLAIMS)},
    )
    user_id = issuer.user_id(verified)
    if user_id is None:
        raise _unauthorized(
            f"user token's '{issuer.user_claim}' claim"
            + (f" with the prefix {issuer.user_prefix!r}" if issuer.user_prefix else "")
            + " is not a valid userId (1-128 printable characters without whitespace)",
            field=issuer.user_claim,
        )
    return Principal(tenant_id=issuer.tenant_id, scopes=_USER_TOKEN_SCOPES, user_id=user_id)


async def _user_token(token: str, tenants: CredentialSource, max_lifetime: int) -> Principal:
    """Verify a JWT by its `alg`: HS256 with the tenant's secret, else a trusted issuer's key."""
    try:
        unverified = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise _unauthorized(f"user token is invalid: {error}") from error
    header, claims = unverified["header"], unverified["payload"]
    algorithm = header.get("alg")
    if algorithm == "HS256":
        principal = await _secret_token(token, claims, tenants)
    elif algorithm in ISSUER_ALGORITHMS:
        principal = await _issuer_token(token, header, claims, tenants)
    else:
        raise _unauthorized(
            f"user token's alg {algorithm!r} is not accepted: HS256 (the tenant's secret) or "
            f"{', '.join(ISSUER_ALGORITHMS)} (a trusted issuer)",
            field="alg",
        )
    lifetime = int(claims["exp"]) - int(claims["iat"])  # verified: both are integers
    if lifetime > max_lifetime:
        raise _unauthorized(
            f"user token lives {lifetime:g}s from 'iat' to 'exp'; at most {max_lifetime}s "
            "is accepted (PROGRESS_USER_TOKEN_MAX_LIFETIME_SECONDS)"
        )
    return replace(principal, expires_at=int(claims["exp"]))


async def authenticate(
    authorization: str | None, tenants: CredentialSource, max_token_lifetime: int
) -> Principal:
    """Resolve an `Authorization: Bearer …` header; raise 401 for a missing or bad one."""
    if not authorization:
        raise _unauthorized("missing Authorization header (expected 'Bearer <token>')")
    try:
        credentials = parse_authorization(authorization)
    except MalformedBasic:
        credentials = None
    if not isinstance(credentials, BearerCredentials):
        raise _unauthorized("Authorization must be 'Bearer <token>'")
    if credentials.is_user_token:
        return await authenticate_user_token(credentials.credential, tenants, max_token_lifetime)
    grant = await tenants.grant_for_key(credentials.credential)
    if grant is None:
        raise _unauthorized("unknown API key")
    return Principal(tenant_id=grant.tenant_id, scopes=grant.scopes & frozenset(ALL_SCOPES))


async def authenticate_user_token(
    token: str, tenants: CredentialSource, max_token_lifetime: int
) -> Principal:
    """Verify a user token (a JWT) sent by any scheme's route; raise 401 for a bad one.

    A user token must carry `iat` and `exp` and live no longer than `max_token_lifetime`
    seconds from `iat` to `exp`, so a leaked token cannot be forever; an HS256 one also `sub`
    and `tid`, a trusted issuer's `iss`, `aud` and its user claim. Refusals are counted by
    code and logged.
    """
    try:
        return await _user_token(token, tenants, max_token_lifetime)
    except ApiError as error:
        USER_TOKEN_REFUSALS.labels(error.code).inc()
        log.info("user_token_refused", code=error.code, reason=error.message)
        raise


def require(principal: Principal, scope: str, user_id: str | None = None) -> None:
    """Raise 403 unless the caller holds `scope` and, for a user token, is that user."""
    if scope not in principal.scopes:
        raise ApiError(403, "forbidden", f"this credential lacks the '{scope}' scope")
    if principal.user_id is not None and principal.user_id != user_id:
        raise ApiError(403, "forbidden", "a user token may only touch its own user")
