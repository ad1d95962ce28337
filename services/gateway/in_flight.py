"""A bound on requests the gateway works on at once; past it, an immediate 503."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.errors import send_error

__all__ = ["InFlightLimit", "release_slot"]

_OPERATIONS = frozenset({"/healthz", "/readyz"})
_RETRY_AFTER = {"Retry-After": "1"}
_RELEASE = "progress.release_slot"
"""Scope key of the callable that gives a request's slot back before it ends."""


def release_slot(scope: MutableMapping[str, Any]) -> None:
    """Give the request's slot back early: it is about to wait, not to work (`waitFor`).

    Idempotent; a request that held no slot (a probe, or no limit in front) is left alone.
    """
    release = scope.pop(_RELEASE, None)
    if release is not None:
        release()


class InFlightLimit:
    """Answer 503 `overloaded` (Retry-After: 1) when `limit` requests are already in the app.

    It sits outside the credential and body checks, so a request counts from its head on:
    while its credentials are looked up, while its body arrives (each bounded by the body
    deadline) and while it waits on Kafka or MongoDB. Probes are never refused, so an
    orchestrator still sees an overloaded gateway as alive. A request may give its slot back
    early (`release_slot`): a read that waits on a consistency token is bounded by its own
    limit.
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
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self._in_flight -= 1

        scope[_RELEASE] = release
        try:
            await self._app(scope, receive, send)
        finally:
            release()
