"""Gateway tails under open-loop load while the projector drains.

`PUT /v1/users/{userId}/progress` of 50 `media.progressed` events over 1,000 users, sent on
a fixed schedule (`open_loop`: latency from each request's due time, so a stall is counted
for every request it delayed) at 1,000 and then 5,000 events/s, the whole stack running on
the same cores. Unlike the closed-loop ingest cells, whose latency is their client count
over their throughput, these say how long a client on a steady schedule waits.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.common import Sizes, gateway_stack
from bench.freshness import warm_up
from bench.ingest import api_client, heartbeat
from bench.open_loop import open_loop
from bench.projection import handled
from tests.support.services import Stack

__all__ = ["EVENTS_PER_REQUEST", "RATES", "run"]

EVENTS_PER_REQUEST = 50
RATES = (1_000, 5_000)
"""Events/s, each with its p99 goal in `report.TAIL_GOALS`."""
_USERS = 1_000
_CONNECTIONS = 256


async def _load(url: str, events_per_second: float, seconds: float) -> dict[str, Any]:
    async with api_client(url, _CONNECTIONS) as http:

        async def send(index: int) -> int:
            events = [
                heartbeat(n % 20, index * EVENTS_PER_REQUEST + n) for n in range(EVENTS_PER_REQUEST)
            ]
            answer = await http.put(
                f"/v1/users/tail-{index % _USERS}/progress", json={"events": events}
            )
            return answer.status_code

        return await open_loop(
            send, events_per_second / EVENTS_PER_REQUEST, seconds, in_flight=_CONNECTIONS
        )


def _measure(stack: Stack, events_per_second: float, seconds: float) -> dict[str, Any]:
    before = handled([stack.projector])
    figures = asyncio.run(_load(stack.gateway_url, events_per_second, seconds))
    return {
        "target_events_per_second": events_per_second,
        "events_per_request": EVENTS_PER_REQUEST,
        "sent_events_per_second": figures["requests_per_second"] * EVENTS_PER_REQUEST,
        "projected_events": handled([stack.projector]) - before,
        **figures,
    }


def run(sizes: Sizes) -> list[dict[str, Any]]:
    """Each rate in turn on one stack, after a short warm-up."""
    with gateway_stack("bench_tails") as stack:
        warm_up(stack)
        return [_measure(stack, rate, sizes.freshness_seconds) for rate in RATES]
