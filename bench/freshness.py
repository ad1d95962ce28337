"""Freshness under a steady ingest: the time from a write's `202` to its event being in the
user's snapshot, on the whole stack (gateway, broker, projector, database).

Open loop: requests leave on a fixed schedule whatever the answers (a slow stack does not
slow the load down), round-robin over the users. Measured two ways:

- probes (the figure the goals use): every `probe_interval` one more request carries one
  event for a user of its own; from its `202` on, one query every `_POLL_SECONDS` asks the
  database for the snapshots of all probes still waiting, and a probe is fresh at the answer
  that holds its snapshot. Resolution: the poll interval plus that query's round trip (both
  reported); never early, since the answer arrives after the snapshot was written.
- the projector's `progress_projector_lag_seconds` histogram over every event: receivedAt
  (before the publish, so earlier than the 202) to the snapshot written; bucket bounds only.

Database write commands per event: SecantusDB's `top` over the stack's database, divided by
the events the projector applied meanwhile.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.common import db_counters, gateway_stack, histogram, histogram_quantile, percentile
from bench.ingest import api_client, heartbeat
from shared.adapters.mongo import SNAPSHOTS, user_key
from tests.support.projector import metric
from tests.support.services import Stack

__all__ = ["Traffic", "at_rate", "drive", "measure", "mixed_event", "run", "steady", "warm_up"]

_POLL_SECONDS = 0.01
_SETTLE_SECONDS = 60.0
_LAG = "progress_projector_lag_seconds"
_TENANT = "demo"


def mixed_event(rng: random.Random, sequence: int) -> dict[str, Any]:
    """A learner's event occurring now: lesson progress, quiz attempts, video reports."""
    content = f"item-{rng.randrange(20)}"
    kind = rng.choice(["content.progressed", "quiz.attempted", "media.progressed"])
    payload: dict[str, Any]
    if kind == "content.progressed":
        payload = {"contentId": content, "status": rng.choice(["in_progress", "completed"])}
    elif kind == "quiz.attempted":
        score = rng.randint(0, 10)
        payload = {"contentId": content, "score": score, "maxScore": 10, "passed": score > 7}
    else:
        return heartbeat(rng.randrange(20), sequence)
    return {
        "eventId": uuid.uuid4().hex,
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": "bench",
        "type": kind,
        "payload": payload,
    }


@dataclass(frozen=True)
class Traffic:
    """An open-loop load: `requests_per_second` PUTs of `events_per_request`, over `users`."""

    name: str
    users: int
    events_per_request: int
    requests_per_second: float
    seconds: float
    make_event: Callable[[random.Random, int], dict[str, Any]]
    probe_interval: float = 0.1

    @property
    def events_per_second(self) -> float:
        return self.requests_per_second * self.events_per_request


def steady(seconds: float) -> Traffic:
    """1,000 events/s: 100 requests/s of 10 mixed events, 1,000 users (one every 10 s each)."""
    return Traffic("steady", 1_000, 10, 100.0, seconds, mixed_event)


def at_rate(events_per_second: float, per_request: int, seconds: float) -> Traffic:
    """`events_per_second` sent in requests of `per_request` mixed events, over 1,000 users."""
    name = f"rate-{events_per_second:.0f}x{per_request}"
    return Traffic(name, 1_000, per_request, events_per_second / per_request, seconds, mixed_event)


@dataclass
class _Tally:
    latencies: list[float]
    failures: dict[str, int]
    sent_events: int = 0

    def answered(self, started: float, response: httpx.Response | None, error: str) -> None:
        if response is not None and response.status_code == 202:
            self.latencies.append(time.perf_counter() - started)
        else:
            key = str(response.status_code) if response is not None else error
            self.failures[key] = self.failures.get(key, 0) + 1


async def _put(
    http: httpx.AsyncClient,
    user: str,
    events: list[dict[str, Any]],
    tally: _Tally,
    due: float | None = None,
) -> float | None:
    """PUT the events; its latency counts from `due` (its turn in the schedule) when given."""
    started = time.perf_counter() if due is None else due
    try:
        response = await http.put(f"/v1/users/{user}/progress", json={"events": events})
    except httpx.HTTPError as error:
        tally.answered(started, None, type(error).__name__)
        return None
    tally.answered(started, response, "")
    tally.sent_events += len(events)
    return time.perf_counter() if response.status_code == 202 else None


_IN_FLIGHT = 200
"""Requests outstanding at most, the client's pool size: the rest wait their turn in order.

Without the cap, a stack that fell behind had thousands of requests queued inside the HTTP
client's pool, whose every step scans the whole queue: the load generator itself then sent
only 240-430 events/s and a 3-run insights section did not end in 14 minutes.
"""


async def _in_a_slot(slots: asyncio.Semaphore, job: Coroutine[Any, Any, Any]) -> Any:
    async with slots:
        return await job


async def drive(stack: Stack, traffic: Traffic) -> dict[str, Any]:
    """Send `traffic` open-loop and time its freshness probes (no settling, no metrics)."""
    rng = random.Random(7)
    tally = _Tally([], {})
    acked: dict[str, float] = {}  # probe snapshot _id -> when its 202 arrived
    fresh: list[float] = []
    query_times: list[float] = []
    settings = stack.settings
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    snapshots = mongo[settings.mongo_database][SNAPSHOTS]
    sending = True
    tag = uuid.uuid4().hex[:6]
    slots = asyncio.Semaphore(_IN_FLIGHT)

    async def probe(index: int, due: float) -> None:
        user = f"probe-{traffic.name}-{tag}-{index}"
        when = await _put(http, user, [traffic.make_event(rng, 0)], tally, due)
        if when is not None:
            acked[user_key(_TENANT, user)] = when

    async def poll() -> None:
        while sending or acked:
            await asyncio.sleep(_POLL_SECONDS)
            if not acked:
                continue
            asked = time.perf_counter()
            found = await snapshots.find({"_id": {"$in": list(acked)}}, {"_id": 1}).to_list()
            now = time.perf_counter()
            query_times.append(now - asked)
            for document in found:
                fresh.append(now - acked.pop(document["_id"]))

    async with api_client(stack.gateway_url, _IN_FLIGHT) as http:
        poller = asyncio.create_task(poll())
        tasks: set[asyncio.Task[Any]] = set()
        count = int(traffic.seconds * traffic.requests_per_second)
        probes = int(traffic.seconds / traffic.probe_interval)
        schedule = sorted(
            [(i / traffic.requests_per_second, "load", i) for i in range(count)]
            + [((i + 0.5) * traffic.probe_interval, "probe", i) for i in range(probes)]
        )
        started = time.perf_counter()
        for offset, kind, index in schedule:
            delay = started + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            job: Coroutine[Any, Any, Any]
            due = started + offset
            if kind == "probe":
                job = probe(index, due)
            else:
                user = f"{traffic.name}-{tag}-{index % traffic.users}"
                sequence = index // traffic.users
                events = [
                    traffic.make_event(rng, sequence * traffic.events_per_request + n)
                    for n in range(traffic.events_per_request)
                ]
                job = _put(http, user, events, tally, due)
            task = asyncio.create_task(_in_a_slot(slots, job))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        late = time.perf_counter() - started - traffic.seconds
        await asyncio.gather(*tasks)
        sent_for = time.perf_counter() - started
        sending = False
        await asyncio.wait_for(poller, _SETTLE_SECONDS)
    await mongo.close()
    return {
        "target_events_per_second": traffic.events_per_second,
        "sent_events_per_second": tally.sent_events / sent_for,
        "schedule_slip_seconds": max(0.0, late),
        "requests": len(tally.latencies),
        "failures": tally.failures,
        "ack_p50_ms": percentile(tally.latencies, 0.5) * 1000,
        "ack_p99_ms": percentile(tally.latencies, 0.99) * 1000,
        "probes": len(fresh),
        "freshness_p50_ms": percentile(fresh, 0.5) * 1000,
        "freshness_p99_ms": percentile(fresh, 0.99) * 1000,
        "freshness_max_ms": max(fresh, default=math.nan) * 1000,
        "poll_interval_ms": _POLL_SECONDS * 1000,
        "poll_query_p50_ms": percentile(query_times, 0.5) * 1000,
        "sent_events": tally.sent_events,
    }


def measure(stack: Stack, traffic: Traffic) -> dict[str, Any]:
    """Run `traffic` against the stack; freshness, 202 latency, writes per event."""
    projector = stack.projector
    database = stack.settings.mongo_database
    before_writes = db_counters(stack.settings.mongo_url, database)
    before_applied = metric(projector, "progress_projector_events_total", outcome="applied")
    before_lag = histogram(projector, _LAG)
    before_batches = metric(projector, "progress_projector_batch_seconds_count")
    result = asyncio.run(drive(stack, traffic))
    expected = before_applied + result["sent_events"]
    deadline = time.monotonic() + _SETTLE_SECONDS
    while metric(projector, "progress_projector_events_total", outcome="applied") < expected:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    applied = metric(projector, "progress_projector_events_total", outcome="applied")
    writes = db_counters(stack.settings.mongo_url, database) - before_writes
    lag = histogram(projector, _LAG)
    batches = metric(projector, "progress_projector_batch_seconds_count") - before_batches
    events = applied - before_applied
    below = {b: n for b, n in lag.items() if b <= 0.25}
    within = (below[max(below)] - before_lag.get(max(below), 0.0)) if below else 0.0
    result.update(
        {
            "name": traffic.name,
            "users": traffic.users,
            "events_per_request": traffic.events_per_request,
            "seconds": traffic.seconds,
            "applied_events": events,
            "projector_batches": batches,
            "events_per_batch": events / batches if batches else 0.0,
            "write_commands_per_event": writes.writes / events if events else math.nan,
            "write_commands_per_request": writes.writes / result["requests"]
            if result["requests"]
            else math.nan,
            "lag_histogram_p50_le_s": histogram_quantile(lag, before_lag, 0.5),
            "lag_histogram_p99_le_s": histogram_quantile(lag, before_lag, 0.99),
            "lag_histogram_share_le_250ms": within / events if events else math.nan,
            "db": writes.as_dict(),
        }
    )
    return result


def run(traffics: list[Traffic]) -> list[dict[str, Any]]:
    """Each traffic in turn on one fresh stack, the projector caught up in between."""
    with gateway_stack("bench_fresh") as stack:
        warm_up(stack)
        return [measure(stack, traffic) for traffic in traffics]


def warm_up(stack: Stack) -> None:
    """A short load first: the projector joins its group and the gateway warms up."""
    asyncio.run(drive(stack, Traffic("warmup", 10, 5, 20.0, 2.0, mixed_event, probe_interval=0.5)))
