"""Pure ASGI middleware around every request: its id, its duration metric, its last resort.

Starlette's `@app.middleware("http")` runs the app in a second task and copies each
response; this does neither. Metric labels come only from closed sets, so no request,
authenticated or not, can add a series: a method outside the standard set counts as
`other`, a path no route matches as `unmatched`, and statuses are the few the app sends.
"""

from __future__ import annotations

import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import send_error
from shared.adapters.logs import bind_context, get_logger
from shared.adapters.metrics import GATEWAY_REQUEST_SECONDS

__all__ = ["REQUEST_ID_HEADER", "RequestContext", "method_label", "route_label"]

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = REQUEST_ID_HEADER.lower().encode()
_MAX_REQUEST_ID = 128
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

log = get_logger(__name__)


def method_label(method: str) -> str:
    """The metric label of an HTTP method: itself when standard, else `other`."""
    return method if method in _METHODS else "other"


def route_label(scope: Scope) -> str:
    """The metric label of a request's route: the matched template, else `unmatched`."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == _HEADER_KEY:
            text = bytes(value).decode("latin-1")
            if 0 < len(text) <= _MAX_REQUEST_ID and text.isprintable():
                return text
    return uuid.uuid4().hex


class RequestContext:
    """Give each request an id (its `X-Request-ID`, or a new one) in the logs and the response.

    The request's duration is observed in `progress_gateway_request_seconds` once the
    response is sent. An exception no handler answered becomes a JSON 500 `internal_error`
    naming the request id, logged with its traceback, instead of a bare plain-text 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id bound; time it; add the id header to the response."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        bind_context(request_id=request_id)
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [*message.get("headers", []), (_HEADER_KEY, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        except Exception:
            log.exception("request_failed", method=scope["method"], path=scope["path"])
            if status is not None:
                raise
            message = f"the gateway failed on this request; report request id {request_id}"
            await send_error(send_with_id, 500, "internal_error", message)
        finally:
            GATEWAY_REQUEST_SECONDS.labels(
                method_label(scope["method"]), route_label(scope), str(status or 500)
            ).observe(time.perf_counter() - started)
