"""Memory under a long ingest: each service's resident set size (RSS) after a warm-up and
after `events` more events went through the whole stack (gateway, broker, projector,
database), read from /proc. A service whose RSS grows with the events it has seen leaks,
or holds something per user or per event that should be bounded (caches, buffers).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from bench.common import gateway_stack
from bench.freshness import mixed_event
from bench.ingest import api_client
from bench.projection import handled
from tests.support.services import Stack

__all__ = ["run"]

_WARMUP_EVENTS = 20_000
_PER_REQUEST = 500
_CLIENTS = 8
_USERS = 10_000
_DRAIN_TIMEOUT_SECONDS = 3_600.0


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _rss(stack: Stack) -> dict[str, float]:
    return {
        server.name: _rss_mib(server.process.pid)
        for server in stack.processes()
        if server.process is not None
    }


async def _send(base: str, events: int, first_user: int) -> float:
    """Send `events` events in 500-event requests from 8 clients; the events/s achieved."""
    rng = random.Random(first_user)
    left = events
    started = time.perf_counter()
    async with api_client(base, _CLIENTS) as http:

        async def client() -> None:
            nonlocal left
            while left > 0:
                count = min(_PER_REQUEST, left)
                left -= count
                user = f"memory-{first_user + rng.randrange(_USERS)}"
                body = {"events": [mixed_event(rng, n) for n in range(count)]}
                answer = await http.put(f"/v1/users/{user}/progress", json=body)
                if answer.status_code != 202:
                    left += count

        await asyncio.gather(*(client() for _ in range(_CLIENTS)))
    return events / (time.perf_counter() - started)


def _drained(stack: Stack, total: float) -> None:
    deadline = time.monotonic() + _DRAIN_TIMEOUT_SECONDS
    while handled([stack.projector]) < total:
        if time.monotonic() > deadline:
            raise TimeoutError("the projector did not catch up")
        time.sleep(1.0)


def run(events: int) -> dict[str, Any]:
    """RSS per service after a warm-up and after `events` more events, and the growth."""
    with gateway_stack("bench_memory") as stack:
        asyncio.run(_send(stack.gateway_url, _WARMUP_EVENTS, 0))
        _drained(stack, _WARMUP_EVENTS)
        start = _rss(stack)
        rate = asyncio.run(_send(stack.gateway_url, events, _USERS))
        _drained(stack, _WARMUP_EVENTS + events)
        end = _rss(stack)
    return {
        "events": events,
        "warmup_events": _WARMUP_EVENTS,
        "users": _USERS,
        "ingest_events_per_second": rate,
        "services": {
            name: {
                "start_mib": start[name],
                "end_mib": end[name],
                "growth_share": end[name] / start[name] - 1,
            }
            for name in start
        },
    }
