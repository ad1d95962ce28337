"""The insights section: `insights rebuild` rate in learners/s, and the insights read p99.

A private stack gets a 20-item catalog course and `learners` learners, each with a log entry
and a snapshot written straight into the database (as the projector would have left them:
items started, some completed, a quiz and a video, last active over the past 60 days). The
recount then runs as `progressctl insights rebuild` runs it, and the course's insights are
read through the gateway, one request at a time. What the read costs does not grow with
the learners: it is one indexed query over the course's sums (items x counters, plus one
per active day and item for drop-off).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.common import gateway_stack
from shared.adapters.catalog_store import MongoCatalogStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.insight_store import mongo_insights
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import RecordedEvent, parse_course, reduce, validate_event
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.stored_snapshots import SnapshotUpdate
from tests.support.services import TEST_API_KEY

__all__ = ["run"]

TENANT = "demo"
"""The stack's bootstrap tenant: its key reads the insights."""
_COURSE = "bench-course"
_ITEMS = 20
_BATCH = 250
_READS = 300


def _course() -> dict[str, Any]:
    kinds = ["lesson"] * 17 + ["quiz", "video", "lesson"]
    return {
        "items": [{"contentId": f"{_COURSE}.{n}", "kind": kind} for n, kind in enumerate(kinds)]
    }


def _learner_log(rng: random.Random, user: str) -> list[RecordedEvent]:
    """A learner who got through a random share of the course, up to 60 days ago."""
    start = datetime.now(UTC) - timedelta(days=rng.uniform(1, 60))
    reached = rng.randint(1, _ITEMS)
    raws = []
    for n in range(reached):
        when = (start + timedelta(minutes=10 * n)).isoformat()
        content = f"{_COURSE}.{n}"
        if n == 17:
            payload = {
                "contentId": content,
                "score": rng.randint(0, 10),
                "maxScore": 10,
                "passed": rng.random() < 0.6,
            }
            raws.append(("quiz.attempted", when, payload))
        elif n == 18:
            payload = {
                "contentId": content,
                "positionSeconds": rng.randint(10, 300),
                "durationSeconds": 300,
                "watchedSeconds": rng.randint(10, 300),
            }
            raws.append(("media.progressed", when, payload))
        else:
            raws.append(("content.progressed", when, {"contentId": content, "status": "completed"}))
    far = datetime(2100, 1, 1, tzinfo=UTC)
    return [
        RecordedEvent(
            tenant_id=TENANT,
            user_id=user,
            received_at=datetime.fromisoformat(when),
            event=validate_event(
                {
                    "eventId": f"e-{n}",
                    "occurredAt": when,
                    "clientId": "bench",
                    "type": kind,
                    "payload": payload,
                },
                now=far,
            ),
        )
        for n, (kind, when, payload) in enumerate(raws)
    ]


async def _seed(settings: Settings, learners: int) -> None:
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        await MongoCatalogStore(db).put(TENANT, parse_course(_course(), course_id=_COURSE))
        log, snapshots = MongoEventLog(db), MongoSnapshotStore(db)
        rng = random.Random(28)
        for first in range(0, learners, _BATCH):
            entries, updates = [], []
            for n in range(first, min(learners, first + _BATCH)):
                user = f"learner-{n}"
                events = _learner_log(rng, user)
                entries += [LogEntry(seq, event) for seq, event in enumerate(events, 1)]
                snapshot = reduce(events, tenant_id=TENANT, user_id=user)
                updates.append(SnapshotUpdate((TENANT, user), snapshot, len(events), 0))
            await log.append(entries)
            await snapshots.save_many(updates)
    finally:
        await client.close()


async def _recount(settings: Settings) -> tuple[int, float]:
    client = mongo_client(settings)
    try:
        insights = mongo_insights(client[settings.mongo_database])
        started = time.perf_counter()
        learners = await insights.recount(TENANT, None)
        return learners, time.perf_counter() - started
    finally:
        await client.close()


def _read_p99(base: str) -> dict[str, float]:
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TEST_API_KEY}"}) as api:
        for _ in range(_READS):
            started = time.perf_counter()
            answer = api.get(f"/v1/courses/{_COURSE}/insights", params={"inactiveDays": 14})
            times.append(time.perf_counter() - started)
            answer.raise_for_status()
    times.sort()
    return {
        "p50_ms": times[len(times) // 2] * 1000,
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
    }


def measure(learners: int) -> dict[str, Any]:
    """Seed `learners`, recount them, read the course's insights `_READS` times."""
    with gateway_stack(f"bench_insights_{learners}") as stack:
        # The machine is shared: seeding's big writes get a minute, not the services' 5 s.
        settings = stack.settings.model_copy(update={"mongo_timeout_ms": 60_000})
        started = time.perf_counter()
        asyncio.run(_seed(settings, learners))
        seeded = time.perf_counter() - started
        counted, seconds = asyncio.run(_recount(settings))
        reads = _read_p99(stack.gateway_url)
    return {
        "seeded": "through the stores directly (a log entry and a snapshot per learner, as the "
        "projector leaves them), not through events: 100,000 learners through the gateway would "
        "take most of an hour here",
        "learners": counted,
        # Seeding is the database's insert rate (the log entries dominate), not the rebuild's.
        "seed_seconds": seeded,
        "rebuild_seconds": seconds,
        "rebuild_learners_per_second": counted / seconds if seconds else None,
        "read": reads,
    }


def run(full: bool, sizes: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """10,000 learners; with `full` also 100,000 (minutes of seeding and recounting)."""
    chosen = sizes or ((10_000, 100_000) if full else (10_000,))
    return [measure(learners) for learners in chosen]


if __name__ == "__main__":
    import json
    import sys

    counts = tuple(int(arg) for arg in sys.argv[1:] if arg.isdigit())
    print(json.dumps(run("--full" in sys.argv, counts or None), indent=2))
