"""Envelope checks before any route runs: JSON type (415), size (413), time (408), text (400).

Under `/xapi/` any content type passes (State documents may be of any type; statements come
as JSON or `multipart/mixed`, and 1.0.3's alternate syntax as a form) and the bound is
`XAPI_MAX_BODY_BYTES`, so statements can carry attachments; the xAPI routes check the type.
An alternate-syntax request (an xAPI POST with `?method=`) is read before its credentials
are known (they may be form fields), so its bound is the form's own, `MAX_FORM_BYTES`.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import send_error
from shared.domain.json_text import MAX_BODY_DEPTH, has_lone_surrogate, json_depth
from shared.domain.wire import MAX_BODY_BYTES
from shared.xapi import MAX_FORM_BYTES

__all__ = ["WRITE_METHODS", "XAPI_MAX_BODY_BYTES", "BodyLimits", "is_alternate_request", "is_xapi"]

XAPI_MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest body under `/xapi/`: statements with their attachments."""

_XAPI_PREFIX = "/xapi/"

WRITE_METHODS = frozenset({"PUT", "POST", "PATCH"})
"""Methods whose body the gateway reads."""
_CLOSE = {"Connection": "close"}


class BodyLimits:
    """Refuse a write whose body is not JSON, too large, too slow or too deep.

    The body is buffered (at most `max_bytes`, within `timeout` seconds of the request head)
    and replayed to the app, so a request that breaks a limit never reaches validation and
    nothing of it is published. A slow sender gets 408 and its connection is closed, so a
    client sending a byte at a time cannot hold the gateway. A body nesting deeper than
    `max_depth`, or escaping a lone surrogate (not Unicode text), is refused before any
    parser or serializer can fail on it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        timeout: float,
        max_bytes: int = MAX_BODY_BYTES,
        max_depth: int = MAX_BODY_DEPTH,
    ) -> None:
        self._app = app
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check writes to the API; pass everything else straight through."""
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self._app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value for name, value in scope["headers"]}
        media_type = headers.get("content-type", b"").decode("latin-1").split(";")[0]
        is_json = media_type.strip().lower() == "application/json"
        xapi = is_xapi(scope)
        limit = XAPI_MAX_BODY_BYTES if xapi else self._max_bytes
        if is_alternate_request(scope):
            limit = MAX_FORM_BYTES
        if not is_json and not xapi:
            await send_error(
                send, 415, "unsupported_media_type", "send the body as application/json"
            )
            return
        declared = headers.get("content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(send, limit)
            return
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._read(receive, limit)
        except TimeoutError:
            message = f"the body did not arrive within {self._timeout:g} s"
            await send_error(send, 408, "request_timeout", message, _CLOSE)
            return
        if body is None:
            return
        if len(body) > limit:
            await self._too_large(send, limit)
            return
        if not is_json:
            await self._app(scope, _replay(body, receive), send)
            return
        if json_depth(body) > self._max_depth:
            message = f"the body nests arrays and objects deeper than {self._max_depth} levels"
            await send_error(send, 400, "too_deep", message)
            return
        if has_lone_surrogate(body):
            message = "the body escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF unpaired)"
            await send_error(send, 400, "malformed_json", message)
            return
        await self._app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or as soon as it passes the limit; None if the client left."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more and size <= limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _too_large(self, send: Send, limit: int) -> None:
        message = f"the body exceeds {limit} bytes"
        await send_error(send, 413, "body_too_large", message, _CLOSE)


def is_xapi(scope: Scope) -> bool:
    """True for a request under `/xapi/`."""
    return str(scope.get("path", "")).startswith(_XAPI_PREFIX)


def is_alternate_request(scope: Scope) -> bool:
    """True for an xAPI POST with `?method=`: 1.0.3's alternate syntax, a form to unwrap."""
    if scope["method"] != "POST" or not is_xapi(scope):
        return False
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    return any(name == "method" for name, _ in parse_qsl(query, keep_blank_values=True))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the buffered body once, then the real channel."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
