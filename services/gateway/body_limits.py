"""Envelope checks before any route runs: JSON content type (415) and body size (413).

Under `/xapi/` any content type passes (State documents may be of any type; statements
come as JSON or `multipart/mixed`, and 1.0.3's alternate syntax as a form) and the bound is
`XAPI_MAX_BODY_BYTES`, so statements can carry attachments; the xAPI routes check the type.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import error_body
from shared.domain.wire import MAX_BODY_BYTES

__all__ = ["XAPI_MAX_BODY_BYTES", "BodyLimits"]

XAPI_MAX_BODY_BYTES = 16 * 1024 * 1024
"""The largest xAPI request body (statements with their attachments): 16 MiB."""
_XAPI_PREFIX = "/xapi/"

_WRITE_METHODS = frozenset({"PUT", "POST", "PATCH"})


class BodyLimits:
    """Refuse a write whose body is not JSON or exceeds 1 MiB, without reading past the limit.

    The body is buffered (at most the limit) and replayed to the app, so a request that is
    too large never reaches validation and nothing of it is published.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check writes to the API; pass everything else straight through."""
        if scope["type"] != "http" or scope["method"] not in _WRITE_METHODS:
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        xapi = str(scope.get("path", "")).startswith(_XAPI_PREFIX)
        limit = XAPI_MAX_BODY_BYTES if xapi else self._max_bytes
        if media_type != "application/json" and not xapi:
            await _refuse(send, 415, "unsupported_media_type", "send the body as application/json")
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, "body_too_large", f"the body exceeds {limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, 413, "body_too_large", f"the body exceeds {limit} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
