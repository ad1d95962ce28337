"""Projector drains: `python -m services.projector` processes emptying a backlog.

Every drain on a lab gets its own consumer group and database, so several drains share one
broker and database server: a group reads either the topic from its start (the events
published so far) or only what is published after `start_at_end`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import MongoClient

from bench.common import db_counters
from bench.process_cpu import cpu_seconds, per_event_ms
from shared.adapters.embedded import EmbeddedServer
from shared.adapters.mongo import SNAPSHOTS
from shared.adapters.topics import EVENTS_TOPIC
from shared.domain import RecordedEvent, Snapshot
from tests.support.projector import ProjectorLab, metric, reductions

__all__ = ["Drain", "check_converged", "drain", "handled", "stored_snapshots", "wait_handled"]

_POLL_SECONDS = 0.1
_DRAIN_TIMEOUT_SECONDS = 900.0
_CONVERGE_SECONDS = 60.0
"""How long the snapshots may take to equal the reduction once the events count handled."""


@dataclass(frozen=True)
class Drain:
    """One projector run on a lab: its consumer group and its database."""

    lab: ProjectorLab
    name: str

    @property
    def group(self) -> str:
        return f"bench-{self.name}"

    @property
    def database(self) -> str:
        return f"bench_{self.name}"

    def start_at_end(self) -> None:
        """Commit the group's offsets at the topic's end: it will read only later events."""
        asyncio.run(_commit_at_end(self.lab, self.group))

    def start(self, count: int = 1) -> list[EmbeddedServer]:
        """Start `count` projector processes in this run's group, on this run's database."""
        return self.lab.start_projectors(
            *(f"{self.name}-{n}" for n in range(count)),
            projector_group=self.group,
            mongo_database=self.database,
        )


async def _commit_at_end(lab: ProjectorLab, group: str) -> None:
    """Read the topic to its end in `group`, then commit there.

    Reading, not asking: Tansu answers ListOffsets(latest) wrongly (1 per partition after a
    batch of hundreds), so `end_offsets` cannot say where the end is.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=lab.settings.kafka_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(
            [TopicPartition(EVENTS_TOPIC, p) for p in range(lab.settings.kafka_partitions)]
        )
        while await consumer.getmany(timeout_ms=1000, max_records=10_000):
            pass
        await consumer.commit()
    finally:
        await consumer.stop()


def handled(projectors: Sequence[EmbeddedServer]) -> float:
    """Events the projectors are done with so far, all processes together.

    A redelivered event the database had already stored (its write timed out on the
    projector's side but succeeded on the server's) counts as a duplicate, not as applied:
    it is done all the same, so duplicates count here too, or a drain would wait forever.
    """
    return sum(
        metric(p, "progress_projector_events_total", outcome=outcome)
        for p in projectors
        for outcome in ("applied", "duplicate")
    )


def wait_handled(
    projectors: Sequence[EmbeddedServer], count: float, timeout_seconds: float, poll: float
) -> None:
    """Wait until the projectors handled `count` events, or raise `TimeoutError`."""
    deadline = time.monotonic() + timeout_seconds
    while handled(projectors) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count:.0f} events not handled in {timeout_seconds:.0f} s")
        time.sleep(poll)


def stored_snapshots(lab: ProjectorLab, database: str) -> dict[str, Snapshot]:
    """Every snapshot stored in `database`, by userId."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        lab.settings.mongo_url, serverSelectionTimeoutMS=10_000, tz_aware=True
    )
    try:
        return {
            doc["u"]: Snapshot.from_storage(doc["state"])
            for doc in client[database][SNAPSHOTS].find({})
        }
    finally:
        client.close()


def _cpu(servers: Sequence[EmbeddedServer]) -> float:
    """User + system CPU seconds the servers' processes have spent so far, all together."""
    return sum(cpu_seconds(s.process.pid) for s in servers if s.process is not None)


def check_converged(run: Drain, events: Sequence[RecordedEvent]) -> None:
    """Raise unless the stored snapshots come to equal the reduction of the events.

    Checked while the projectors still run, and for a while: the drain stops its clock on
    the events counted handled, and a batch whose database write timed out but landed counts
    its events again on redelivery, as duplicates, before the last of them is applied.
    """
    wanted = reductions(events)
    deadline = time.monotonic() + _CONVERGE_SECONDS
    while (stored := stored_snapshots(run.lab, run.database)) != wanted:
        if time.monotonic() > deadline:
            differing = sum(stored.get(user) != snapshot for user, snapshot in wanted.items())
            raise RuntimeError(
                f"{run.name}: {differing} of {len(wanted)} snapshots differ from the "
                f"reduction of the log {_CONVERGE_SECONDS:.0f} s after the drain"
            )
        time.sleep(1.0)


def drain(
    run: Drain, events: Sequence[RecordedEvent], *, projectors: int = 1, publish: bool = True
) -> dict[str, Any]:
    """Events/s of `projectors` processes draining `events`, published before they start.

    With `publish=False` the events must already be on the topic and the group reads it
    from the start. The clock starts when the first event is applied (joining the consumer
    group, several seconds on Tansu, is not the projector's speed) and stops when every event
    is; the projectors' CPU (user + system) over the same window, per event handled in it.
    The snapshots are then checked against the reduction of the events.
    """
    if publish:
        run.start_at_end()
        run.lab.publish(events)
    servers = run.start(projectors)
    try:
        while not (first := handled(servers)):
            time.sleep(_POLL_SECONDS / 10)
        started = time.perf_counter()
        cpu = _cpu(servers)
        done = first
        while done < len(events):
            if time.perf_counter() - started > _DRAIN_TIMEOUT_SECONDS:
                raise TimeoutError(f"{run.name}: {done:.0f} of {len(events)} applied")
            time.sleep(_POLL_SECONDS)
            done = handled(servers)
        elapsed = time.perf_counter() - started
        cpu = _cpu(servers) - cpu
        batches = sum(metric(s, "progress_projector_batch_seconds_count") for s in servers)
        replays = sum(metric(s, "progress_projector_replays_total") for s in servers)
        check_converged(run, events)
    finally:
        for server in servers:
            server.stop()
    counters = db_counters(run.lab.settings.mongo_url, run.database)
    users = len({event.user_id for event in events})
    return {
        "events": len(events),
        "users": users,
        "projectors": projectors,
        "events_per_second": (len(events) - first) / elapsed,
        "cpu_ms_per_event": per_event_ms(cpu, len(events) - first),
        "batches": batches,
        "events_per_batch": len(events) / batches if batches else 0.0,
        "replays": replays,
        "write_commands_per_event": counters.writes / len(events),
        "db": counters.as_dict(),
    }
