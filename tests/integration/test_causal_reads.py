"""Read-your-writes on the real database: the wait and the page read share one causal session.

A command listener records what the driver sends. Inside `causal_reads()` the wait's reads
and the page read after it carry one `lsid`, and every read after the session's first
carries `readConcern: {level: majority, afterClusterTime}`: the server answers the page only
from a state at least as new as the one the wait saw. The watcher's poller, a task started
by the wait, reads outside that session (a session never runs two operations at once).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from shared.adapters.causal_reads import causal_reads, read_session
from shared.adapters.clock import SystemClock
from shared.adapters.event_log import MongoEventLog
from shared.adapters.mongo import EVENTS, SNAPSHOTS, Document, ensure_indexes
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.written_events_store import MongoWrittenEvents
from shared.service_layer.consistency import ReadYourWrites, SnapshotWatcher
from shared.service_layer.projection import Projection
from shared.service_layer.reading import ProgressReader
from shared.service_layer.user_keys import UserKey
from tests.unit.domain.builders import raw_event, record

pytestmark = pytest.mark.integration

KEY: UserKey = ("demo", "u1")


@dataclass
class Read:
    collection: str
    command: dict[str, Any]

    @property
    def lsid(self) -> Any:
        return self.command.get("lsid", {}).get("id")

    @property
    def read_concern(self) -> dict[str, Any]:
        concern: dict[str, Any] = self.command.get("readConcern", {})
        return concern


@dataclass
class Reads(monitoring.CommandListener):
    """Every `find` the client sends while `recording`."""

    recording: bool = False
    seen: list[Read] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording and event.command_name == "find":
            self.seen.append(Read(event.command["find"], dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Not needed."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Not needed."""


@dataclass
class World:
    reads: Reads
    projection: Projection
    consistency: ReadYourWrites
    reader: ProgressReader
    client: AsyncMongoClient[Document]


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    reads = Reads()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        settings.mongo_url,
        event_listeners=[reads],
        tz_aware=True,
        w="majority",
        readConcernLevel="majority",
    )
    db = client[f"causal_{uuid.uuid4().hex[:8]}"]
    await ensure_indexes(db)
    events, snapshots = MongoEventLog(db), MongoSnapshotStore(db)
    watcher = SnapshotWatcher(snapshots, interval=0.02)
    consistency = ReadYourWrites(
        events, watcher, MongoWrittenEvents(db), [b"k" * 32], clock=SystemClock()
    )
    try:
        yield World(
            reads,
            Projection(events, snapshots),
            consistency,
            ProgressReader(events, snapshots),
            client,
        )
    finally:
        await client.drop_database(db.name)
        await client.close()


def progressed(event_id: str, minute: int) -> Any:
    return record(
        raw_event(
            "content.progressed",
            f"2026-11-20T10:{minute:02d}:00Z",
            {"contentId": f"c-{minute}", "status": "completed"},
            event_id=event_id,
        )
    )


async def test_the_wait_and_the_page_read_after_it_share_one_causal_session(world: World) -> None:
    await world.projection.project([progressed("e-1", 1)])
    token = await world.consistency.token(KEY, ["e-2"])

    async def write_later() -> None:
        await asyncio.sleep(0.3)
        await world.projection.project([progressed("e-2", 2)])

    writing = asyncio.create_task(write_later())
    world.reads.recording = True
    try:
        async with causal_reads(world.client):
            session = read_session()
            assert session is not None
            lsid = session.session_id["id"]
            waited = await world.consistency.wait(token, KEY, 5.0)
            page = await world.reader.page(KEY, 0, 10)
    finally:
        world.reads.recording = False
        await writing

    assert waited.consistent
    assert [entry.event.event_id for entry in page.entries] == ["e-1", "e-2"]
    ours = [read for read in world.reads.seen if read.lsid == lsid]
    lookups = [r for r in ours if r.collection == EVENTS and "_id" in r.command["filter"]]
    assert lookups, "the wait looked its events up in the session"
    [page_read] = [r for r in ours if r.collection == EVENTS and r.command.get("limit") == 11]
    assert page_read is ours[-1], "the page is read last, in the same session"
    assert ours[0].read_concern == {"level": "majority"}
    for later in ours[1:]:
        assert later.read_concern["level"] == "majority"
        assert "afterClusterTime" in later.read_concern, later.command
    polled = [r for r in world.reads.seen if r.collection == SNAPSHOTS and r not in ours]
    assert polled, "the watcher's poller read outside the session"


async def test_outside_a_scope_and_in_a_task_started_inside_one_there_is_no_session(
    world: World,
) -> None:
    assert read_session() is None
    async with causal_reads(world.client):
        assert read_session() is not None
        assert await asyncio.create_task(_session()) is None, "a task started inside has none"
    assert read_session() is None


async def _session() -> Any:
    return read_session()
