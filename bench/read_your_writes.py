"""Read-your-writes: what `waitFor` costs a reader, and what waiting costs the database.

Under a steady 1,000 events/s (100 requests/s of 10 events over 1,000 users), probes write one
event and read their user back: half with the write's `consistencyToken` as `waitFor`
(latency from sending the write to the answered read, and whether it said
`Progress-Consistent: true`), half with a plain read right after the `202` (latency, and
how often that read did not show the write yet). Then, with no load, 100 reads wait on
tokens whose events never come, for their whole bound, while the database's own `top`
counts every command it executes: database commands per second with 100 waiters beside an
idle second.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx

from bench.common import db_counters, gateway_stack, percentile
from bench.freshness import mixed_event
from bench.ingest import api_client
from shared.adapters.clock import SystemClock
from shared.service_layer.consistency import ReadYourWrites
from tests.fakes import InMemoryWrittenEvents
from tests.support.services import Stack

__all__ = ["run"]

_READ_COMMANDS = ("queries", "getmore", "commands")
_WAITERS = 100
_WAIT_MS = 2000


async def _load(http: httpx.AsyncClient, user: str, events: list[Any], failed: list[str]) -> None:
    try:
        answer = await http.put(f"/v1/users/{user}/progress", json={"events": events})
    except httpx.HTTPError as error:
        failed.append(type(error).__name__)
        return
    if answer.status_code != 202:
        failed.append(str(answer.status_code))


async def _probe(http: httpx.AsyncClient, user: str, wait: bool) -> tuple[float, bool] | None:
    started = time.perf_counter()
    event = mixed_event(random.Random(user), 0)
    try:
        written = await http.put(f"/v1/users/{user}/progress", json={"events": [event]})
        if written.status_code != 202:
            return None
        params = {"waitFor": written.json()["consistencyToken"], "waitMs": 5000} if wait else {}
        read = await http.get(f"/v1/users/{user}/progress", params=params)
    except httpx.HTTPError:
        return None
    elapsed = time.perf_counter() - started
    if wait:
        return elapsed, read.headers.get("Progress-Consistent") == "true"
    return elapsed, read.json()["snapshot"]["eventCount"] == 1


async def _under_load(stack: Stack, seconds: float) -> dict[str, Any]:
    rng = random.Random(11)
    tag = uuid.uuid4().hex[:6]
    results: dict[bool, list[tuple[float, bool]]] = {True: [], False: []}
    failed: list[str] = []
    async with api_client(stack.gateway_url, 400) as http:
        tasks: set[asyncio.Task[Any]] = set()
        started = time.perf_counter()
        for index in range(int(seconds * 100)):
            delay = started + index / 100 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            events = [mixed_event(rng, index * 10 + n) for n in range(10)]
            user = f"ryw-{tag}-{index % 1000}"
            tasks.add(asyncio.create_task(_load(http, user, events, failed)))
            if index % 10 == 0:
                wait = index % 20 == 0

                async def probe(number: int = index, wait: bool = wait) -> None:
                    found = await _probe(http, f"ryw-probe-{tag}-{number}", wait)
                    if found is not None:
                        results[wait].append(found)

                tasks.add(asyncio.create_task(probe()))
        await asyncio.gather(*tasks)

    def summary(rows: list[tuple[float, bool]], flag: str) -> dict[str, Any]:
        latencies = [seconds for seconds, _ in rows]
        return {
            "probes": len(rows),
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            flag: sum(ok for _, ok in rows) / len(rows) if rows else float("nan"),
        }

    return {
        "events_per_second": 1000,
        "failed_requests": len(failed),
        "wait_for": summary(results[True], "consistent_share"),
        "plain": summary(results[False], "showed_the_write_share"),
    }


def _commands(stack: Stack) -> int:
    counters = db_counters(stack.settings.mongo_url, stack.settings.mongo_database)
    return sum(counters.counts.get(kind, 0) for kind in _READ_COMMANDS)


async def _waiting(stack: Stack) -> dict[str, Any]:
    keys = stack.settings.erasure_secrets
    tokens = ReadYourWrites(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        InMemoryWrittenEvents(),
        keys,
        clock=SystemClock(),
    )
    users = [f"waiter-{uuid.uuid4().hex[:6]}-{n}" for n in range(_WAITERS)]
    idle_before = _commands(stack)
    await asyncio.sleep(_WAIT_MS / 1000)
    idle = (_commands(stack) - idle_before) / (_WAIT_MS / 1000)
    waits = {user: await tokens.token(("demo", user), ["never"]) for user in users}
    async with api_client(stack.gateway_url, _WAITERS + 10) as http:
        before = _commands(stack)
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(
                http.get(
                    f"/v1/users/{user}/progress",
                    params={"waitFor": token, "waitMs": _WAIT_MS},
                )
                for user, token in waits.items()
            )
        )
        spent = time.perf_counter() - started
        during = (_commands(stack) - before) / spent
    return {
        "waiters": _WAITERS,
        "wait_ms": _WAIT_MS,
        "idle_db_commands_per_second": idle,
        "db_commands_per_second": during,
        "consistent": sum(a.headers.get("Progress-Consistent") == "true" for a in answers),
    }


def run(seconds: float) -> dict[str, Any]:
    """The read latencies under load, then the cost of 100 waiters, on one fresh stack."""
    with gateway_stack("bench_ryw") as stack:
        result = asyncio.run(_under_load(stack, 2.0))  # warm-up: the projector joins its group
        result = asyncio.run(_under_load(stack, seconds))
        result["waiting"] = asyncio.run(_waiting(stack))
        return result
