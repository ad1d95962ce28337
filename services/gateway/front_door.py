"""Credentials before bodies: a write is authenticated from its headers before it is read.

Without it, anyone could make the gateway buffer and parse up to a route's body limit
(16 MiB under `/xapi/`) before learning the caller had no credentials. The check is the
routes' own (`authenticate` for `/v1/`, `xapi_credential` for `/xapi/`) under the same per-address
limit on failed authentications; the route checks again, from the credential cache, and
alone decides scopes and budgets. The one exception is 1.0.3's alternate syntax, whose
credentials may be a form field: its body is bounded to `MAX_FORM_BYTES` instead, and the
xAPI route authenticates it from the form under the same limit.
"""

from __future__ import annotations

from functools import partial

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.body_limits import WRITE_METHODS, is_alternate_request, is_xapi
from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError, send_error, store_outage
from services.gateway.sign_in import client_address, signed_in, signed_in_from_headers
from services.gateway.xapi_http import xapi_credential
from shared.service_layer.errors import StoreUnavailable

__all__ = ["CredentialsFirst"]

_API_PREFIX = "/v1/"
_CLOSE = {"Connection": "close"}


class CredentialsFirst:
    """Answer a write with bad or missing credentials before a byte of its body is read.

    The connection is closed with the answer, since the unread body is still on its way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check a write's credentials from its headers; pass everything else through."""
        if not _needs_check(scope):
            await self._app(scope, receive, send)
            return
        context: GatewayContext = scope["app"].state.context
        authorization = Headers(scope=scope).get("authorization")
        address = client_address(scope)
        try:
            if is_xapi(scope):
                check = partial(xapi_credential, authorization, context.max_token_lifetime)
                await signed_in(context, address, check)
            else:
                await signed_in_from_headers(context, scope, authorization)
        except StoreUnavailable as outage:
            await _refuse(send, store_outage(outage))
            return
        except ApiError as error:
            await _refuse(send, error)
            return
        await self._app(scope, receive, send)


async def _refuse(send: Send, error: ApiError) -> None:
    headers = {**error.headers, **_CLOSE}
    await send_error(send, error.status, error.code, error.message, headers, error.field)


def _needs_check(scope: Scope) -> bool:
    """A write to the API whose credentials are in its headers."""
    if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
        return False
    if is_alternate_request(scope):
        return False
    return is_xapi(scope) or str(scope["path"]).startswith(_API_PREFIX)
