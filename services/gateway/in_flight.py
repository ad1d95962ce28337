"""A bound on requests the gateway works on at once; past it, an immediate 503."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.errors import send_error

__all__ = ["InFlightLimit"]

_OPERATIONS = frozenset({"/healthz", "/readyz"})
_RETRY_AFTER = {"Retry-After": "1"}


class InFlightLimit:
    """Answer 503 `overloaded` (Retry-After: 1) when `limit` requests are already in the app.

    It sits outside the credential and body checks, so a request counts from its head on:
    while its credentials are looked up, while its body arrives (each bounded by the body
    deadline) and while it waits on Kafka or MongoDB. Probes are never refused,
    so an orchestrator still sees an overloaded gateway as alive.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self._app = app
        self._limit = limit
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request if there is room, else refuse it at once."""
        if scope["type"] != "http" or scope["path"] in _OPERATIONS:
            await self._app(scope, receive, send)
            return
        if self._in_flight >= self._limit:
            message = f"the gateway is serving {self._limit} requests already; retry shortly"
            await send_error(send, 503, "overloaded", message, _RETRY_AFTER)
            return
        self._in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            self._in_flight -= 1
