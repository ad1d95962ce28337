"""`waitFor` on reads: wait (bounded) for a write's consistency token, then say if it held."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from shared.service_layer.consistency import TokenRefused
from shared.service_layer.records import UserKey

__all__ = ["CONSISTENT_HEADER", "WaitFor", "WaitMs", "await_write"]

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


async def await_write(
    context: GatewayContext, response: Response, key: UserKey, token: str | None, wait_ms: int
) -> None:
    """Wait for the token's write to be reflected; set `Progress-Consistent` accordingly.

    Past the bound the read goes on with what is there and says `false` instead of
    pretending. A token that is not ours, or is another user's, is a 400.
    """
    if token is None:
        return
    try:
        held = await context.consistency.wait(token, key, wait_ms / 1000)
    except TokenRefused as refused:
        raise ApiError(400, "invalid_consistency_token", str(refused), field="waitFor") from None
    response.headers[CONSISTENT_HEADER] = "true" if held else "false"
