"""The closed-loop load shared by the ingest benches: clients that each send their next
request as soon as the previous one was answered, for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import percentile

__all__ = ["Send", "closed_loop"]

Send = Callable[[int, int], Awaitable[int]]
"""Sends request number `index` of client `client_id`; returns the HTTP status answered."""


async def closed_loop(
    send: Send, clients: int, seconds: float, *, per_request: int, unit: str, accepted: int
) -> dict[str, Any]:
    """Run `clients` clients for `seconds` and summarise throughput in `unit` and latency.

    Each client sends at least one request, and none starts after the time is up. Latency
    percentiles cover every answer; a request not answered `accepted` counts as an error and its
    `per_request` items not as ingested.
    """
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    until = started + seconds

    async def client(client_id: int) -> None:
        index = 0
        while index == 0 or time.perf_counter() < until:
            sent = time.perf_counter()
            status = await send(client_id, index)
            latencies.append(time.perf_counter() - sent)
            if status != accepted:
                errors.append(status)
            index += 1

    await asyncio.gather(*(client(c) for c in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        f"{unit}_per_request": per_request,
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "seconds": elapsed,
        f"{unit}_per_second": per_request * (len(latencies) - len(errors)) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }
