"""The storage ports' contract, held against MongoDB (the real server) and the in-memory fakes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from shared.adapters.event_log import MongoEventLog
from shared.adapters.mongo import ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import reduce
from shared.service_layer.ports import EventLog, LogEntry, SnapshotStore, SnapshotUpdate
from tests.fakes import InMemoryEventLog, InMemorySnapshotStore
from tests.unit.domain.builders import raw_event, record

pytestmark = pytest.mark.integration


@dataclass
class Stores:
    log: EventLog
    snapshots: SnapshotStore


@pytest.fixture(params=["memory", "mongodb"])
async def stores(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Stores]:
    if request.param == "memory":
        yield Stores(InMemoryEventLog(), InMemorySnapshotStore())
        return
    client = mongo_client(settings)
    db = client[f"contract_{uuid.uuid4().hex[:8]}"]
    await ensure_indexes(db)
    try:
        yield Stores(MongoEventLog(db), MongoSnapshotStore(db))
    finally:
        await client.drop_database(db.name)
        await client.close()


def entry(seq: int, event_id: str, content_id: str = "a.b", user: str = "u1") -> LogEntry:
    event = record(
        raw_event(
            "content.progressed",
            f"2026-11-20T10:00:{seq % 60:02d}Z",
            {"contentId": content_id, "status": "in_progress"},
            event_id=event_id,
        ),
        user=user,
    )
    return LogEntry(seq, event)


async def test_append_stores_once_and_reports_duplicates_and_collisions(stores: Stores) -> None:
    first = await stores.log.append([entry(1, "e-1"), entry(2, "e-2")])
    assert [e.seq for e in first.inserted] == [1, 2]
    again = await stores.log.append([entry(3, "e-1"), entry(2, "e-3"), entry(4, "e-4")])
    assert [e.event.event_id for e in again.duplicates] == ["e-1"]
    assert [e.event.event_id for e in again.collisions] == ["e-3"]
    assert [e.event.event_id for e in again.inserted] == ["e-4"]


async def test_ids_that_look_like_operators_are_stored_as_plain_values(stores: Stores) -> None:
    await stores.log.append([entry(1, "$where", content_id="$set.a.b")])
    found = (await stores.log.find_many({("demo", "u1"): ["$where"]}))[("demo", "u1")]
    assert found["$where"].event.event_id == "$where"
    snapshot = reduce([found["$where"].event], tenant_id="demo", user_id="u1")
    assert (
        await stores.snapshots.save_many([SnapshotUpdate(("demo", "u1"), snapshot, 1, 0)]) == set()
    )
    loaded = await stores.snapshots.load_many([("demo", "u1")])
    assert loaded[("demo", "u1")].snapshot == snapshot
    assert "$set.a.b" in loaded[("demo", "u1")].snapshot.to_api()["items"]


async def test_after_and_page_follow_the_seq_order_per_user(stores: Stores) -> None:
    await stores.log.append([entry(3, "c"), entry(1, "a"), entry(2, "b"), entry(1, "x", user="u2")])
    after = await stores.log.after({("demo", "u1"): 1, ("demo", "u2"): 0, ("demo", "u3"): 0})
    assert [e.event.event_id for e in after[("demo", "u1")]] == ["b", "c"]
    assert [e.event.event_id for e in after[("demo", "u2")]] == ["x"]
    assert ("demo", "u3") not in after
    page = await stores.log.page(("demo", "u1"), 0, 2, limit=10)
    assert [e.seq for e in page] == [1, 2]
    assert [e.seq for e in await stores.log.page(("demo", "u1"), 0, 3, limit=1)] == [1]


async def test_snapshot_writes_are_conditional_on_the_applied_seq(stores: Stores) -> None:
    key = ("demo", "u9")
    snapshot = reduce([entry(1, "e-1", user="u9").event], tenant_id="demo", user_id="u9")
    assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 1, 0)]) == set()
    assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 2, 0)]) == {key}
    assert await stores.snapshots.save_many([SnapshotUpdate(key, snapshot, 2, 1)]) == set()
    assert (await stores.snapshots.load_many([key]))[key].seq == 2
    assert await stores.snapshots.load_many([("demo", "nobody")]) == {}
