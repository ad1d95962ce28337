"""Every answer under `/xapi/` names an xAPI version, even one the xAPI handlers never saw.

The handlers stamp `X-Experience-API-Version` themselves (`xapi_http.serve`); this middleware
covers what answers before or instead of them: the body limit's `413`, the in-flight bound's
`503`, a `404` or `405` for a path or method the LRS does not serve (Communication 3.3: the
LRS includes the header in every response).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.xapi_http import NEWEST_VERSION, VERSION_HEADER
from shared.xapi import negotiate_version

__all__ = ["XapiVersionStamp"]

_XAPI_PREFIX = "/xapi/"


class XapiVersionStamp:
    """Add the request's negotiated version (else the newest) to `/xapi/` answers lacking one."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; stamp the response's start if it has no version header."""
        if scope["type"] != "http" or not str(scope["path"]).startswith(_XAPI_PREFIX):
            await self._app(scope, receive, send)
            return
        asked = negotiate_version(Headers(scope=scope).get(VERSION_HEADER))
        version = asked or NEWEST_VERSION

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault(VERSION_HEADER, version)
            await send(message)

        await self._app(scope, receive, stamped)
