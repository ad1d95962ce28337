"""`waitFor` on reads: wait (bounded) for a write's consistency token, then say if it held.

A waiting read gives its request slot back (`InFlightLimit`) and holds a wait slot instead
(`wait_slots`), so one learner's reads cannot take the slots every caller needs. The wait and
the read after it run in one causally consistent database session (`causal_reads`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Query, Request, Response

from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.in_flight import release_slot
from shared.adapters.metrics import GATEWAY_WAITS
from shared.service_layer.consistency import TokenRefused
from shared.service_layer.user_keys import UserKey

__all__ = ["CONSISTENT_HEADER", "WaitFor", "WaitMs", "consistent_read"]

CONSISTENT_HEADER = "Progress-Consistent"

WaitFor = Annotated[
    str | None,
    Query(
        max_length=4096,
        description="A write's `consistencyToken`: answer once that write is reflected.",
    ),
]
WaitMs = Annotated[
    int,
    Query(ge=0, le=10_000, description="How long to wait for `waitFor`, in ms (at most 10 s)."),
]


@asynccontextmanager
async def consistent_read(
    context: GatewayContext,
    request: Request,
    response: Response,
    key: UserKey,
    token: str | None,
    wait_ms: int,
) -> AsyncIterator[None]:
    """Wait for the token's write to be reflected, then let the caller read, in one session.

    Sets `Progress-Consistent`. Past the bound the read goes on with what is there and says
    `false` instead of pretending; so does a wait whose write became a dead letter or was
    dropped (at once), and an expired token is answered at once with what is reflected now.
    A token that is not ours, or is another user's, is a 400; too many waiting reads, a 429.
    The wait and the reads inside the block share one causally consistent database session
    (`causal_reads`), so the page served is at least as new as what the wait saw. A read
    without a token opens no session: it promises no write, and every read goes to the
    primary anyway.
    """
    if token is None:
        yield
        return
    async with context.causal_reads():
        await _await_write(context, request, response, key, token, wait_ms)
        yield


async def _await_write(
    context: GatewayContext,
    request: Request,
    response: Response,
    key: UserKey,
    token: str,
    wait_ms: int,
) -> None:
    with context.waits.hold(key):
        release_slot(request.scope)
        try:
            waited = await context.consistency.wait(token, key, wait_ms / 1000)
        except TokenRefused as refused:
            raise ApiError(
                400, "invalid_consistency_token", str(refused), field="waitFor"
            ) from None
    GATEWAY_WAITS.labels(waited.how).inc()
    response.headers[CONSISTENT_HEADER] = "true" if waited.consistent else "false"
