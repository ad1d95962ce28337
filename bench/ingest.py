"""Gateway ingest: events/s and p50/p99 latency of `PUT /v1/users/{id}/progress`.

Closed loop: each of `clients` concurrent clients sends its next request as soon as the
previous one was answered `202`. The whole stack runs meanwhile (the projector drains what
the gateway publishes), on the same two cores as this load generator.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.closed_loop import closed_loop
from bench.common import Sizes, gateway_stack
from tests.support.services import TEST_API_KEY

__all__ = ["BATCHES", "CLIENTS", "api_client", "heartbeat", "measure", "run"]

BATCHES = (1, 50, 500)
CLIENTS = (1, 8, 32)


def heartbeat(content: int, position: float, watched: float = 5) -> dict[str, Any]:
    """One `media.progressed` event as a video player sends it, occurring now.

    Its time is written as the gateway writes times, so that the gateway's floor
    (`gateway_floor`), which copies it unparsed, publishes the very bytes the gateway does.
    """
    return {
        "eventId": uuid.uuid4().hex,
        "occurredAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "clientId": "bench-player",
        "type": "media.progressed",
        "payload": {
            "contentId": f"video-{content}",
            "positionSeconds": position,
            "durationSeconds": 3600,
            "watchedSeconds": watched,
        },
    }


def api_client(base: str, connections: int = 100) -> httpx.AsyncClient:
    """An HTTP client for the gateway with the bench tenant's API key."""
    return httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        timeout=30,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def measure(base: str, batch: int, clients: int, seconds: float) -> dict[str, Any]:
    """Drive `clients` concurrent clients sending PUTs of `batch` events for `seconds`.

    A request not answered `202` (e.g. `503` when the broker did not acknowledge in time)
    counts as an error and its events not as ingested.
    """
    async with api_client(base, clients) as http:

        async def send(client_id: int, index: int) -> int:
            body = {"events": [heartbeat(i % 20, index * batch + i) for i in range(batch)]}
            response = await http.put(f"/v1/users/bench-{client_id}/progress", json=body)
            return response.status_code

        return await closed_loop(
            send, clients, seconds, per_request=batch, unit="events", accepted=202
        )


def run(sizes: Sizes) -> list[dict[str, Any]]:
    """Every (events per request, clients) cell on one stack, each after a short warm-up."""
    cells: list[dict[str, Any]] = []
    with gateway_stack("bench_ingest") as stack:
        for batch in BATCHES:
            for clients in CLIENTS:
                asyncio.run(measure(stack.gateway_url, batch, clients, 0.3))
                cells.append(
                    asyncio.run(measure(stack.gateway_url, batch, clients, sizes.ingest_seconds))
                )
    return cells
