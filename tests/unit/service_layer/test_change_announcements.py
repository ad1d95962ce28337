"""Every snapshot writer announces what it wrote on `progress.changes`, before it commits.

The projector and retry worker (one `Projection`), the rebuild and erasure each announce
(tenant, user, cursor); a redelivered batch announces again, and an announcement that the
broker does not acknowledge fails the write's round, so its input is redelivered.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from shared.domain import RecordedEvent, reduce
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.deliveries import ConsumedRecord
from shared.service_layer.erasure import Erasure, erase_user
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.failure_routing import FailureRouter
from shared.service_layer.projection import Projection
from shared.service_layer.rebuild import RebuildScope, SnapshotRebuilder
from tests.fakes import (
    FixedClock,
    InMemoryCertificateStore,
    InMemoryChangeAnnouncer,
    InMemoryDeadLetterStore,
    InMemoryEventLog,
    InMemoryRebuildCheckpoints,
    InMemoryRetryRoutes,
    InMemorySnapshotStore,
    InMemoryTombstoneStore,
    InMemoryUserDataStore,
    RecordingMetrics,
)
from tests.unit.domain.builders import raw_event, record

pytestmark = pytest.mark.unit


def rated(minute: int, user: str = "u1") -> RecordedEvent:
    return record(
        raw_event(
            "content.rated",
            f"2026-11-20T10:{minute:02d}:00Z",
            {"contentId": f"c{minute}", "rating": "easy"},
            event_id=f"e-{user}-{minute}",
        ),
        user=user,
    )


async def test_a_projection_announces_each_users_new_cursor_once() -> None:
    changes = InMemoryChangeAnnouncer()
    projection = Projection(InMemoryEventLog(), InMemorySnapshotStore(), changes=changes)
    await projection.project([rated(1), rated(2), rated(3, "u2")])
    assert changes.announced == [
        SnapshotChange("demo", "u1", 2),
        SnapshotChange("demo", "u2", 1),
    ]


async def test_a_redelivered_batch_announces_again() -> None:
    changes = InMemoryChangeAnnouncer()
    projection = Projection(InMemoryEventLog(), InMemorySnapshotStore(), changes=changes)
    batch = [rated(1), rated(2)]
    await projection.project(batch)
    report = await projection.project(batch)
    assert report.duplicates == 2
    assert changes.announced == [SnapshotChange("demo", "u1", 2)] * 2


async def test_an_unacknowledged_announcement_leaves_the_batch_uncommitted() -> None:
    changes = InMemoryChangeAnnouncer()
    changes.unavailable = BrokerUnavailable("changes not acknowledged")
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    consumer = BatchConsumer(
        Projection(log, snapshots, changes=changes),
        FailureRouter(InMemoryRetryRoutes(), InMemoryDeadLetterStore(), FixedClock()),
        RecordingMetrics(),
    )
    event = rated(1)
    delivered = ConsumedRecord("progress.events", 0, 7, b"demo/u1", event.to_json())
    outcome = await consumer.consume([delivered])
    assert not outcome.ack
    assert "changes not acknowledged" in (outcome.error or "")
    changes.unavailable = None
    assert (await consumer.consume([delivered])).ack
    assert changes.announced == [SnapshotChange("demo", "u1", 1)]


async def test_a_user_erased_while_projected_is_announced_empty() -> None:
    tombstones, log, changes = (
        InMemoryTombstoneStore(),
        InMemoryEventLog(),
        InMemoryChangeAnnouncer(),
    )

    class BuriedMidway(InMemorySnapshotStore):
        async def save_many(self, updates):  # type: ignore[no-untyped-def]
            await tombstones.bury("demo", "u1")
            return await super().save_many(updates)

    snapshots = BuriedMidway()
    store = InMemoryUserDataStore(
        log, snapshots, InMemoryDeadLetterStore(), InMemoryCertificateStore()
    )
    projection = Projection(log, snapshots, Erasure(tombstones, store), changes=changes)
    await projection.project([rated(1), rated(2, "u2")])
    assert changes.announced == [
        SnapshotChange("demo", "u2", 1),
        SnapshotChange("demo", "u1", 0),
    ]


async def test_erasure_announces_the_emptied_snapshot() -> None:
    log, snapshots, changes = InMemoryEventLog(), InMemorySnapshotStore(), InMemoryChangeAnnouncer()
    await Projection(log, snapshots).project([rated(1)])
    store = InMemoryUserDataStore(
        log, snapshots, InMemoryDeadLetterStore(), InMemoryCertificateStore()
    )
    await erase_user(
        InMemoryTombstoneStore(),
        store,
        "demo",
        "u1",
        clock=FixedClock(),
        settle_seconds=0,
        changes=changes,
    )
    assert changes.announced == [SnapshotChange("demo", "u1", 0)]


async def test_a_rebuild_announces_the_snapshots_it_wrote() -> None:
    log, snapshots, changes = InMemoryEventLog(), InMemorySnapshotStore(), InMemoryChangeAnnouncer()
    await Projection(log, snapshots).project([rated(1), rated(2), rated(3, "u2")])
    rebuilder = SnapshotRebuilder(
        log, snapshots, InMemoryRebuildCheckpoints(), FixedClock(), changes
    )
    await rebuilder.run(RebuildScope(tenant_id="demo"))
    assert changes.announced == [
        SnapshotChange("demo", "u1", 2),
        SnapshotChange("demo", "u2", 1),
    ]


def test_an_announcement_round_trips_and_refuses_what_it_did_not_write() -> None:
    change = SnapshotChange("demo", "u/1", 12)
    assert change.to_json() == b'{"tenantId":"demo","userId":"u/1","cursor":12}'
    assert SnapshotChange.from_json(change.to_json()) == change
    for bad in (
        b"[]",
        b'{"tenantId":"demo","userId":1,"cursor":1}',
        b'{"tenantId":"d","userId":"u","cursor":-1}',
        b'{"tenantId":"d","userId":"u","cursor":true}',
    ):
        with pytest.raises(ValueError, match="change announcement"):
            SnapshotChange.from_json(bad)


class FlakyAnnouncer(InMemoryChangeAnnouncer):
    """Refuses every other announcement, as a broker that keeps timing out would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def announce(self, changes: Sequence[SnapshotChange]) -> None:
        self.calls += 1
        if self.calls % 2:
            raise BrokerUnavailable("changes not acknowledged")
        await super().announce(changes)


async def test_refused_announcements_and_their_redeliveries_store_the_full_fold() -> None:
    changes = FlakyAnnouncer()
    snapshots = InMemorySnapshotStore()
    projection = Projection(InMemoryEventLog(), snapshots, changes=changes)
    log = [rated(minute, user=f"u{minute % 3}") for minute in range(30)]
    sent = log + random.Random(5).sample(log, 8)
    random.Random(9).shuffle(sent)
    for start in range(0, len(sent), 6):
        batch = sent[start : start + 6]
        with pytest.raises(BrokerUnavailable):
            await projection.project(batch)
        await projection.project(batch)  # the redelivery
    for user in ("u0", "u1", "u2"):
        mine = [event for event in log if event.user_id == user]
        stored = snapshots.snapshots[("demo", user)]
        assert stored.snapshot == reduce(mine, tenant_id="demo", user_id=user)
        assert SnapshotChange("demo", user, stored.seq) in changes.announced
