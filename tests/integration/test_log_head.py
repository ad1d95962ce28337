"""The log's visible head on the real database: a cursor never skips, whoever writes.

Two writers of one user (a projector and the retry worker, two projectors in a rebalance)
take log positions concurrently; a device that follows `since` must still end with exactly
the user's whole log, each event once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.adapters.event_log import MongoEventLog
from shared.adapters.metrics import LOG_HOLES_FILLED
from shared.adapters.mongo import EVENTS, Document, ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import RecordedEvent
from shared.service_layer.log_entries import AppendResult, LogEntry
from shared.service_layer.projection import ConcurrentWriters, Projection
from shared.service_layer.reading import ProgressReader
from shared.service_layer.user_keys import UserKey
from tests.fakes import FixedClock
from tests.unit.domain.builders import raw_event, record

pytestmark = pytest.mark.integration

KEY: UserKey = ("demo", "u1")
ROUNDS = 10


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncDatabase[Document]]:
    client = mongo_client(settings)
    database = client[f"loghead_{uuid.uuid4().hex[:8]}"]
    await ensure_indexes(database)
    try:
        yield database
    finally:
        await client.drop_database(database.name)
        await client.close()


def history(count: int) -> list[RecordedEvent]:
    return [
        record(
            raw_event(
                "content.rated",
                f"2026-11-20T10:{n // 60:02d}:{n % 60:02d}Z",
                {"contentId": f"c-{n % 5}", "rating": "easy"},
                event_id=f"e-{n:03d}",
            )
        )
        for n in range(count)
    ]


async def project(projection: Projection, batch: list[RecordedEvent]) -> None:
    """Project like a consumer: a batch that loses to the other writer is delivered again."""
    while True:
        try:
            await projection.project(batch)
            return
        except ConcurrentWriters:
            await asyncio.sleep(0)


class Device:
    """Follows the user's log through `since` pages, as a client does."""

    def __init__(self, reader: ProgressReader, db: AsyncDatabase[Document]) -> None:
        self._reader, self._db = reader, db
        self.cursor = 0
        self.seen: list[str] = []

    async def follow(self) -> None:
        """Read to the end; then every event stored up to the cursor must be seen, once."""
        while True:
            page = await self._reader.page(KEY, self.cursor, 7)
            self.seen.extend(entry.event.event_id for entry in page.entries)
            self.cursor = page.cursor
            if not page.has_more:
                break
        assert len(self.seen) == len(set(self.seen)), "an event was served twice"
        query = {"t": KEY[0], "u": KEY[1], "s": {"$lte": self.cursor}}
        found = self._db[EVENTS].find(query, {"f": 1})
        stored = {doc["_id"].rsplit("\x1f", 1)[1] async for doc in found if "f" not in doc}
        assert stored == set(self.seen), f"skipped below cursor {self.cursor}"


class Stalling:
    """A writer's log whose next append, once armed, waits until the user's snapshot moves
    past the position it planned from (at most 0.2 s), and a little longer: a slow writer,
    caught between reading the snapshot's position and storing what it planned above it."""

    def __init__(self, inner: MongoEventLog, snapshots: MongoSnapshotStore) -> None:
        self._inner, self._snapshots = inner, snapshots
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def append(self, entries: Sequence[LogEntry]) -> AppendResult:
        if self.armed:
            self.armed = False
            planned_from = min(entry.seq for entry in entries) - 1
            deadline = asyncio.get_running_loop().time() + 0.2
            while asyncio.get_running_loop().time() < deadline:
                if (await self._snapshots.positions([KEY]))[KEY] > planned_from:
                    break
                await asyncio.sleep(0.002)
            await asyncio.sleep(0.005)  # the devices read meanwhile
        return await self._inner.append(entries)


async def test_a_device_following_since_gets_the_whole_log_once_while_two_writers_race(
    db: AsyncDatabase[Document],
) -> None:
    snapshots = MongoSnapshotStore(db)
    stalling = Stalling(MongoEventLog(db), snapshots)
    fast, slow = Projection(MongoEventLog(db), snapshots), Projection(stalling, snapshots)  # type: ignore[arg-type]
    reader = ProgressReader(MongoEventLog(db), snapshots)
    devices = [Device(reader, db) for _ in range(2)]
    events = history(6 * ROUNDS)
    for start in range(0, len(events), 6):
        # The fast writer's batch starts with a redelivered event: its position stays
        # unused while the slow one, stalled, may still plan to put an event there.
        redelivered = events[max(0, start - 1) : start]
        stalling.armed = True
        written = asyncio.gather(
            project(fast, redelivered + events[start : start + 3]),
            project(slow, events[start + 3 : start + 6]),
        )
        while not written.done():  # the devices read all along, every read checked
            await asyncio.gather(*(device.follow() for device in devices), asyncio.sleep(0.002))
        await written
    for device in devices:
        await device.follow()
        assert sorted(device.seen) == [event.event_id for event in events]


async def test_a_hole_older_than_the_bound_is_filled_by_its_finder_and_the_head_passes_it(
    db: AsyncDatabase[Document],
) -> None:
    log = MongoEventLog(db, hole_bound=timedelta(milliseconds=200))
    events = history(3)
    await log.append([LogEntry(1, events[0]), LogEntry(3, events[2])])
    assert await log.visible_head(KEY, 3) == 1
    filled = LOG_HOLES_FILLED.labels("finder")._value.get()
    await asyncio.sleep(0.25)
    assert await log.visible_head(KEY, 3) == 3
    assert LOG_HOLES_FILLED.labels("finder")._value.get() == filled + 1
    late = await log.append([LogEntry(2, events[1])])
    assert late.collisions == [LogEntry(2, events[1])]
    assert [entry.seq for entry in await log.page(KEY, 0, 3, 10)] == [1, 3]


async def test_a_holes_age_is_told_by_the_logs_clock(db: AsyncDatabase[Document]) -> None:
    """The 10 s bound passes on the clock the log is given, not on the wall."""
    clock = FixedClock()
    log = MongoEventLog(db, hole_bound=timedelta(seconds=10), clock=clock)
    events = history(3)
    await log.append([LogEntry(1, events[0]), LogEntry(3, events[2])])
    clock.advance(9)
    assert await log.visible_head(KEY, 3) == 1
    clock.advance(2)
    assert await log.visible_head(KEY, 3) == 3


class _NoKeyPattern:
    """The events collection, but its duplicate-key errors lack `keyPattern` and `keyValue`,
    as some MongoDB-compatible servers send them."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def insert_many(self, documents: Any, **options: Any) -> Any:
        try:
            return await self._inner.insert_many(documents, **options)
        except BulkWriteError as error:
            for item in error.details.get("writeErrors", []):
                item.pop("keyPattern", None)
                item.pop("keyValue", None)
            raise


class _Database:
    def __init__(self, inner: AsyncDatabase[Document]) -> None:
        self._inner = inner

    def __getitem__(self, name: str) -> Any:
        collection = self._inner[name]
        return _NoKeyPattern(collection) if name == EVENTS else collection

    def get_collection(self, name: str, **options: Any) -> Any:
        return self._inner.get_collection(name, **options)


async def test_a_collision_is_told_from_a_duplicate_by_rereading_not_by_the_error_shape(
    db: AsyncDatabase[Document],
) -> None:
    log = MongoEventLog(_Database(db))  # type: ignore[arg-type]
    events = history(3)
    await log.append([LogEntry(1, events[0])])
    again = await log.append([LogEntry(2, events[0]), LogEntry(1, events[1])])
    assert again.duplicates == [LogEntry(2, events[0])]
    assert again.collisions == [LogEntry(1, events[1])]
