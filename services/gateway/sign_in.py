"""The per-address limit on failed authentications, around every credential check.

One rule for every route, `/xapi` included, and for the check made from the headers before
a body is read: an address that has used up its failed authentications is served from the
credential cache only (a cached key still works), anything needing a database look-up is
refused with 429, and every 401 is charged to the address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.types import Scope

from services.gateway.auth import CredentialSource, Principal, authenticate
from services.gateway.context import GatewayContext
from services.gateway.credentials import NotCached
from services.gateway.errors import ApiError
from shared.adapters.logs import get_logger
from shared.adapters.metrics import FAILED_AUTHENTICATIONS

__all__ = ["client_address", "signed_in", "signed_in_from_headers"]

log = get_logger(__name__)

T = TypeVar("T")

_SIGNED_IN = "progress.signed_in"
"""Scope key of the caller already authenticated for this request, with its header."""


def client_address(scope: Scope) -> str:
    """The client's address (a trusted proxy's `X-Forwarded-For` already applied by uvicorn)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def signed_in(
    context: GatewayContext,
    address: str,
    check: Callable[[CredentialSource], Awaitable[T]],
) -> T:
    """Run `check` against the credential store under the address's failed-login limit.

    Raises:
        ApiError: 429 when the address is out of attempts and the credential is not cached;
            whatever `check` raises otherwise (a 401 is charged to the address first).
    """
    credentials = context.credentials
    exhausted = context.rate_limits.address_exhausted(address)
    if exhausted:
        credentials = credentials.cache_only()
    try:
        return await check(credentials)
    except NotCached as error:
        FAILED_AUTHENTICATIONS.labels("refused").inc()
        log.warning("authentication_refused", address=address, reason="failed_login_limit")
        raise context.rate_limits.address_refusal() from error
    except ApiError as error:
        if error.status == 401:
            FAILED_AUTHENTICATIONS.labels("unauthorized").inc()
            log.info("authentication_failed", address=address, reason=error.message)
            context.rate_limits.charge_failure(address)
        raise


async def signed_in_from_headers(
    context: GatewayContext, scope: Scope, authorization: str | None
) -> Principal:
    """The caller of a native route (`Authorization: Bearer …`), under the address's limit.

    The caller is kept in the request's scope with the header it came from: the route finds
    it there after the pre-body check (`front_door`), instead of verifying the same user
    token a second time.
    """
    known = scope.get(_SIGNED_IN)
    if known is not None and known[0] == authorization:
        principal: Principal = known[1]
        return principal
    principal = await signed_in(
        context,
        client_address(scope),
        lambda credentials: authenticate(authorization, credentials, context.max_token_lifetime),
    )
    scope[_SIGNED_IN] = (authorization, principal)
    return principal
