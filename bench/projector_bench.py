"""Projector throughput against the raw write limit and a naive projector, on embedded servers.

Three figures, on one private broker and database:

- projector: `--events` events of `--users` users, published before it starts, drained by
  one `python -m services.projector` process (Kafka, decoding, log, reduction, snapshots);
- raw limit: the same log documents bulk-inserted and one snapshot upsert per user per
  batch, in the batches the projector gets (each partition's events in turn, `batch` at a
  time), straight from this process (no Kafka, no reduction): what the database allows
  the projector's writes to reach;
- naive: per event, insert it, read the user's snapshot, fold the event on, write it back.

Run: `.venv/bin/python -m bench.projector_bench [--events N] [--users N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka.partitioner import murmur2

from shared.adapters.event_log import MongoEventLog
from shared.adapters.mongo import SNAPSHOTS, ensure_indexes, mongo_client, user_key
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.topics import message_key
from shared.domain import RecordedEvent, Snapshot, apply
from shared.service_layer.ports import LogEntry, SnapshotUpdate, UserKey
from tests.support.projector import ProjectorLab, learner_events, metric, projector_lab, reductions

_POLL_SECONDS = 0.2


def drain(lab: ProjectorLab, events: Sequence[RecordedEvent]) -> float:
    """Events/s of one projector process draining `events`, published before it starts.

    The clock starts when the first batch is counted (the consumer group join, several
    seconds on Tansu, is not the projector's speed) and stops when every event is applied.
    """
    lab.publish(events)
    projector = lab.start_projector("bench-projector")
    first = 0.0
    while not (first := metric(projector, "progress_projector_events_total", outcome="applied")):
        time.sleep(_POLL_SECONDS / 10)
    started = time.perf_counter()
    done = first
    while done < len(events):
        time.sleep(_POLL_SECONDS)
        done = metric(projector, "progress_projector_events_total", outcome="applied")
    elapsed = time.perf_counter() - started
    projector.stop()
    if lab.snapshots() != reductions(events):
        raise RuntimeError("the projector's snapshots differ from the reduction of the log")
    return (len(events) - first) / elapsed


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


async def raw_limit(
    settings: Settings, batches: Sequence[Sequence[RecordedEvent]], states: dict[UserKey, str]
) -> float:
    """Events/s of the projector's writes alone: one bulk log insert and one upsert per user.

    Each upsert writes the user's final snapshot document (as big as any the projector
    writes), conditional on the seq written before, like `MongoSnapshotStore.save_many`.
    """
    client = mongo_client(settings)
    db = client["bench_raw"]
    await ensure_indexes(db)
    log = MongoEventLog(db)
    snapshots = MongoSnapshotStore(db)
    finals = {key: Snapshot.from_storage(state) for key, state in states.items()}
    seqs: dict[UserKey, int] = {}
    started = time.perf_counter()
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
    elapsed = time.perf_counter() - started
    await client.close()
    return sum(len(events) for events in batches) / elapsed


async def naive(settings: Settings, events: Sequence[RecordedEvent]) -> float:
    """Events/s of a projector that reads, folds and writes the snapshot once per event."""
    client = mongo_client(settings)
    db = client["bench_naive"]
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


def main() -> None:
    """Print the three rates and the projector's share of the raw limit and of the naive one."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument(
        "--naive-events", type=int, default=5_000, help="events for the (slow) naive run"
    )
    args = parser.parse_args()
    events = learner_events(args.users, max(1, args.events // args.users), seed=1, prefix="b")
    finals = {
        (snapshot.tenant_id, snapshot.user_id): snapshot.to_storage()
        for snapshot in reductions(events).values()
    }
    with tempfile.TemporaryDirectory() as tmp, projector_lab(Path(tmp)) as lab:
        batch = lab.settings.projector_batch_max
        projected = drain(lab, events)
        batches = consumed_batches(events, lab.settings.kafka_partitions, batch)
        raw = asyncio.run(raw_limit(lab.settings, batches, finals))
        slow = asyncio.run(naive(lab.settings, events[: args.naive_events]))
    print(f"{len(events)} events, {len(finals)} users, batches of {batch}")
    print(f"projector  {projected:8.0f} events/s")
    print(f"raw limit  {raw:8.0f} events/s  (projector at {projected / raw:.0%} of it)")
    print(f"naive      {slow:8.0f} events/s  (projector {projected / slow:.1f}x faster)")


if __name__ == "__main__":
    main()
