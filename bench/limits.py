"""The yardsticks the projector is held against, on the same broker and database.

- raw Kafka: the same messages produced with aiokafka (what `ProjectorLab.publish` does) and
  consumed by a bare aiokafka consumer group, `getmany` batches of the projector's size and a
  commit per batch, nothing else;
- raw database: the same log documents bulk-inserted and one snapshot upsert per user per
  batch, in the batches the projector gets (each partition's events in turn, `batch` at a
  time), straight from this process (no Kafka, no decoding, no reduction);
- naive: no broker; per event, insert it, read the user's snapshot, fold the event on,
  write the snapshot back (the read-modify-write of the reference workout tracker).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import murmur2

from bench.common import MEASUREMENT_TIMEOUT_MS, db_counters, measuring
from shared.adapters.event_log import MongoEventLog
from shared.adapters.mongo import SNAPSHOTS, ensure_indexes, mongo_client, user_key
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.topics import EVENTS_TOPIC
from shared.domain import RecordedEvent, Snapshot, apply, sort_key
from shared.domain.wire import message_key
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.stored_snapshots import SnapshotUpdate
from shared.service_layer.user_keys import UserKey
from tests.support.projector import ProjectorLab, reductions

__all__ = ["consumed_batches", "kafka_consume", "kafka_produce", "naive", "raw_database"]


def kafka_produce(lab: ProjectorLab, events: Sequence[RecordedEvent]) -> float:
    """Events/s of publishing `events` with aiokafka, acks=all, until all are acknowledged."""
    started = time.perf_counter()
    lab.publish(events)
    return len(events) / (time.perf_counter() - started)


async def _consume(settings: Settings, group: str, count: int, batch: int) -> float:
    consumer = AIOKafkaConsumer(
        EVENTS_TOPIC,
        bootstrap_servers=settings.kafka_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=MEASUREMENT_TIMEOUT_MS,
    )
    await consumer.start()
    try:
        received = 0
        first: float | None = None
        while received < count:
            records = await consumer.getmany(timeout_ms=1000, max_records=batch)
            got = sum(len(part) for part in records.values())
            if got and first is None:
                first, received = time.perf_counter(), 0
            received += got
            if got:
                await consumer.commit()
        assert first is not None
        return count / (time.perf_counter() - first)
    finally:
        await consumer.stop()


def kafka_consume(lab: ProjectorLab, group: str, count: int) -> float:
    """Events/s of a bare consumer group reading the topic's first `count` messages.

    The clock starts at the first batch (the group join is not consumption speed), as it
    does for the projector.
    """
    return asyncio.run(_consume(lab.settings, group, count, lab.settings.projector_batch_max))


def consumed_batches(
    events: Sequence[RecordedEvent], partitions: int, batch: int
) -> list[list[RecordedEvent]]:
    """The events cut as a consumer of a backlog gets them: per partition, `batch` at a time."""
    by_partition: dict[int, list[RecordedEvent]] = {}
    for event in events:
        key = message_key(event.tenant_id, event.user_id)
        by_partition.setdefault((murmur2(key) & 0x7FFFFFFF) % partitions, []).append(event)
    return [
        stream[start : start + batch]
        for stream in by_partition.values()
        for start in range(0, len(stream), batch)
    ]


async def _raw_database(
    settings: Settings, database: str, batches: Sequence[Sequence[RecordedEvent]]
) -> tuple[float, float]:
    """Events/s of the writes, and this process's CPU seconds spent on them (the client's)."""
    client = mongo_client(measuring(settings))
    db = client[database]
    await ensure_indexes(db)
    log = MongoEventLog(db)
    snapshots = MongoSnapshotStore(db)
    finals = {
        (s.tenant_id, s.user_id): s
        for s in reductions([event for events in batches for event in events]).values()
    }
    seqs: dict[UserKey, int] = {}
    started = time.perf_counter()
    cpu = time.process_time()
    for events in batches:
        entries: list[LogEntry] = []
        previous: dict[UserKey, int] = {}
        for event in events:
            key = (event.tenant_id, event.user_id)
            previous.setdefault(key, seqs.get(key, 0))
            seqs[key] = seqs.get(key, 0) + 1
            entries.append(LogEntry(seqs[key], event))
        await log.append(entries)
        await snapshots.save_many(
            [SnapshotUpdate(key, finals[key], seqs[key], seq) for key, seq in previous.items()]
        )
    cpu = time.process_time() - cpu
    elapsed = time.perf_counter() - started
    await client.close()
    return sum(len(events) for events in batches) / elapsed, cpu


def raw_database(
    lab: ProjectorLab, database: str, events: Sequence[RecordedEvent]
) -> dict[str, Any]:
    """Events/s and write commands per event of the projector's writes alone.

    Each upsert writes the user's final snapshot document (as big as any the projector
    writes), conditional on the seq written before, like `MongoSnapshotStore.save_many`.
    Its client-side CPU per event (this process's user + system time over the loop) is the
    projector's floor: the least CPU that writing the same documents in the same batches
    takes on the client's side.
    """
    settings = lab.settings
    batches = consumed_batches(events, settings.kafka_partitions, settings.projector_batch_max)
    rate, cpu = asyncio.run(_raw_database(settings, database, batches))
    counters = db_counters(settings.mongo_url, database)
    return {
        "events_per_second": rate,
        "client_cpu_ms_per_event": cpu / len(events) * 1000,
        "write_commands_per_event": counters.writes / len(events),
        "db": counters.as_dict(),
    }


async def _naive(settings: Settings, database: str, events: Sequence[RecordedEvent]) -> float:
    client = mongo_client(measuring(settings))
    db = client[database]
    await ensure_indexes(db)
    log = MongoEventLog(db)
    collection = db[SNAPSHOTS]
    seqs: dict[UserKey, int] = {}
    started = time.perf_counter()
    for event in events:
        key = (event.tenant_id, event.user_id)
        seqs[key] = seqs.get(key, 0) + 1
        await log.append([LogEntry(seqs[key], event)])
        stored = await collection.find_one({"_id": user_key(*key)})
        base = Snapshot.from_storage(stored["state"]) if stored else Snapshot.empty(*key)
        await collection.replace_one(
            {"_id": user_key(*key)},
            {"t": key[0], "u": key[1], "s": seqs[key], "state": apply(base, [event]).to_storage()},
            upsert=True,
        )
    elapsed = time.perf_counter() - started
    await client.close()
    return len(events) / elapsed


def naive(lab: ProjectorLab, database: str, events: Sequence[RecordedEvent]) -> dict[str, Any]:
    """Events/s and write commands per event of one read-modify-write per event.

    The events go in fold order, so that the naive fold never meets a late event.
    """
    rate = asyncio.run(_naive(lab.settings, database, sorted(events, key=sort_key)))
    counters = db_counters(lab.settings.mongo_url, database)
    return {
        "events": len(events),
        "events_per_second": rate,
        "write_commands_per_event": counters.writes / len(events),
        "db": counters.as_dict(),
    }
