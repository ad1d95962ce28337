"""Memory under a long ingest: each service's resident set size (RSS) after a warm-up and
after each quarter of `events` more events through the whole stack (gateway, broker,
projector, database), read from /proc. A service whose RSS grows with the events it has
seen leaks, or holds something per user or per event that should be bounded (caches,
buffers).
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
from bench.projection import wait_handled
from tests.support.services import Stack

__all__ = ["rss_mib", "run"]

_WARMUP_EVENTS_PER_USER = 5
_PER_REQUEST = 500
_CLIENTS = 8
_USERS = 10_000
_QUARTERS = 4
_DRAIN_TIMEOUT_SECONDS = 3_600.0


def rss_mib(pid: int) -> float:
    """A process's resident set size in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _rss(stack: Stack) -> dict[str, float]:
    return {
        server.name: rss_mib(server.process.pid)
        for server in stack.processes()
        if server.process is not None
    }


async def _send(base: str, requests: list[tuple[str, int]], seed: int) -> None:
    """Send each (user, event count) request from 8 clients.

    A request not answered 202 is sent again, so every event goes through.
    """
    rng = random.Random(seed)
    todo = list(reversed(requests))
    async with api_client(base, _CLIENTS) as http:

        async def client() -> None:
            while todo:
                user, count = todo.pop()
                body = {"events": [mixed_event(rng, n) for n in range(count)]}
                answer = await http.put(f"/v1/users/{user}/progress", json=body)
                if answer.status_code != 202:
                    todo.append((user, count))

        await asyncio.gather(*(client() for _ in range(_CLIENTS)))


def _warm_up() -> list[tuple[str, int]]:
    """A few events for every user, so that what a service keeps per user (its bounded
    caches) is full before the first reading, and growth after it is growth without bound."""
    return [(_user(n), _WARMUP_EVENTS_PER_USER) for n in range(_USERS)]


def _load(events: int, seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    full, rest = divmod(events, _PER_REQUEST)
    counts = [_PER_REQUEST] * full + ([rest] if rest else [])
    return [(_user(rng.randrange(_USERS)), count) for count in counts]


def _user(n: int) -> str:
    return f"memory-{n}"


def _drained(stack: Stack, total: float) -> None:
    wait_handled([stack.projector], total, _DRAIN_TIMEOUT_SECONDS, poll=1.0)


def run(events: int) -> dict[str, Any]:
    """RSS per service after a warm-up and after each quarter of `events` more events.

    The quarters tell a cache or buffer that fills and stays bounded (growth that stops)
    from one that grows with every event seen (growth in each quarter).
    """
    with gateway_stack("bench_memory") as stack:
        warm_up = _warm_up()
        warmup_events = sent = sum(count for _, count in warm_up)
        asyncio.run(_send(stack.gateway_url, warm_up, 0))
        _drained(stack, sent)
        readings = [_rss(stack)]
        seconds = 0.0
        for quarter in range(_QUARTERS):
            load = _load(events // _QUARTERS, seed=quarter)
            started = time.perf_counter()
            asyncio.run(_send(stack.gateway_url, load, quarter + 1))
            seconds += time.perf_counter() - started
            sent += sum(count for _, count in load)
            _drained(stack, sent)
            readings.append(_rss(stack))
    start, end = readings[0], readings[-1]
    return {
        "events": events,
        "warmup_events": warmup_events,
        "users": _USERS,
        "ingest_events_per_second": events / seconds,
        "services": {
            name: {
                "start_mib": start[name],
                "quarters_mib": [reading[name] for reading in readings[1:]],
                "end_mib": end[name],
                "growth_share": end[name] / start[name] - 1,
            }
            for name in start
        },
    }
