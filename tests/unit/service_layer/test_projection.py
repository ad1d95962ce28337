"""The projection use case on in-memory stores: idempotent, crash-healing, order-proof."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from shared.adapters.snapshot_cache import CachedSnapshots
from shared.domain import RecordedEvent, reduce
from shared.service_layer import replay as replay_module
from shared.service_layer.errors import StoreTimeout, StoreUnavailable
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.projection import ConcurrentWriters, Projection
from shared.service_layer.rebuild import RebuildScope, SnapshotRebuilder
from shared.service_layer.stored_snapshots import SnapshotUpdate
from shared.service_layer.user_keys import UserKey
from tests.fakes import (
    CountingEventLog,
    FixedClock,
    HookedEventLog,
    InMemoryEventLog,
    InMemoryRebuildCheckpoints,
    InMemorySnapshotCheckpoints,
    InMemorySnapshotStore,
)
from tests.unit.domain.builders import rated_history, raw_event, record

KEY = ("demo", "u1")


def events(count: int, user: str = "u1") -> list[RecordedEvent]:
    return [
        record(
            raw_event(
                "quiz.attempted",
                f"2026-11-20T10:{minute:02d}:00Z",
                {
                    "contentId": f"quiz-{minute % 3}",
                    "score": minute,
                    "maxScore": 60,
                    "passed": False,
                },
                event_id=f"e-{minute:02d}",
            ),
            user=user,
        )
        for minute in range(count)
    ]


def fresh() -> tuple[Projection, InMemoryEventLog, InMemorySnapshotStore]:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    return Projection(log, snapshots), log, snapshots


async def test_projects_a_batch_into_the_snapshot() -> None:
    projection, _, snapshots = fresh()
    batch = events(6)
    report = await projection.project(batch)
    assert len(report.applied) == 6
    stored = snapshots.snapshots[KEY]
    assert stored.snapshot == reduce(batch, tenant_id="demo", user_id="u1")
    assert stored.seq == 6


async def test_projecting_again_counts_duplicates_and_changes_nothing() -> None:
    projection, _, snapshots = fresh()
    batch = events(5)
    await projection.project(batch)
    before = snapshots.snapshots[KEY]
    report = await projection.project([*batch, batch[0]])
    assert report.applied == []
    assert report.duplicates == 6
    assert snapshots.snapshots[KEY] == before


async def test_shuffled_batches_with_repeats_equal_the_full_fold() -> None:
    projection, _, snapshots = fresh()
    log = events(40)
    sent = log + random.Random(7).sample(log, 10)
    random.Random(3).shuffle(sent)
    for start in range(0, len(sent), 7):
        await projection.project(sent[start : start + 7])
    assert snapshots.snapshots[KEY].snapshot == reduce(log, tenant_id="demo", user_id="u1")


async def test_a_crash_between_log_and_snapshot_heals_on_redelivery() -> None:
    projection, log, snapshots = fresh()
    batch = events(4)
    await projection.project(batch[:2])
    await log.append([LogEntry(3, batch[2]), LogEntry(4, batch[3])])
    report = await projection.project(batch[2:])
    assert snapshots.snapshots[KEY].snapshot == reduce(batch, tenant_id="demo", user_id="u1")
    assert snapshots.snapshots[KEY].seq == 4
    assert report.duplicates == 0
    assert len(report.applied) == 2


async def test_a_late_event_replays_the_log() -> None:
    projection, _, snapshots = fresh()
    batch = events(5)
    await projection.project(batch[1:])
    report = await projection.project([batch[0]])
    assert len(report.replays) == 1
    assert snapshots.snapshots[KEY].snapshot == reduce(batch, tenant_id="demo", user_id="u1")


class TimingOutLog(InMemoryEventLog):
    """A log whose reads time out once armed, as a saturated database's do."""

    armed = False

    async def after(self, positions):  # type: ignore[no-untyped-def]
        if self.armed and positions:
            raise StoreTimeout("timed out")
        return await super().after(positions)


async def test_a_replay_that_times_out_rewinds_the_batch_instead_of_failing_the_user() -> None:
    log, snapshots = TimingOutLog(), InMemorySnapshotStore()
    projection = Projection(log, snapshots)
    batch = events(5)
    await projection.project(batch[1:])
    log.armed = True
    with pytest.raises(StoreUnavailable):
        await projection.project([batch[0]])


async def test_a_different_event_under_a_stored_event_id_is_a_conflict() -> None:
    projection, _, snapshots = fresh()
    original = events(1)[0]
    await projection.project([original])
    impostor = record(
        raw_event(
            "content.rated",
            "2026-11-20T11:00:00Z",
            {"contentId": "x", "rating": "hard"},
            event_id="e-00",
        )
    )
    report = await projection.project([impostor])
    assert report.conflicts == 1
    assert snapshots.snapshots[KEY].snapshot == reduce([original], tenant_id="demo", user_id="u1")


async def test_a_concurrent_writer_is_detected_and_overtaken() -> None:
    projection, log, snapshots = fresh()
    rival = Projection(log, snapshots)
    batch = events(6)
    await projection.project(batch[:2])
    await rival.project(batch[2:4])
    await projection.project(batch[4:])
    assert snapshots.snapshots[KEY].snapshot == reduce(batch, tenant_id="demo", user_id="u1")


async def test_a_position_left_unused_is_filled_so_no_later_writer_slips_under_a_cursor() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    batch = events(4)
    fast = Projection(log, snapshots)
    await fast.project(batch[:1])
    # While the slow writer sits between reading seq 1 and appending, the fast one appends
    # a redelivered event (refused: it fills seq 2) and two new ones at 3 and 4. The slow
    # writer's event, planned for seq 2, must not land there under a cursor already at 4.
    slow = Projection(HookedEventLog(log, lambda: fast.project(batch[:3])), snapshots)  # type: ignore[arg-type]
    await slow.project(batch[3:])
    assert [entry.seq for entry in log.entries[KEY].values()] == [1, 3, 4, 5]
    assert log.fillers[KEY] == {2}
    assert snapshots.snapshots[KEY].snapshot == reduce(batch, tenant_id="demo", user_id="u1")
    assert snapshots.snapshots[KEY].seq == 5
    assert await log.visible_head(KEY, 5) == 5


async def test_a_late_event_replays_from_the_newest_checkpoint_before_it() -> None:
    log, snapshots, kept = (
        CountingEventLog(),
        InMemorySnapshotStore(),
        InMemorySnapshotCheckpoints(),
    )
    projection = Projection(log, snapshots, checkpoints=kept)
    history = rated_history(2500, "c")
    for first in range(0, 2400, 400):
        await projection.project(history[first : first + 400])
    assert sorted(kept.kept[KEY]) == [1200, 2000]  # where each batch passed a thousand
    late, rest = history[2450], history[2400:2450] + history[2451:]
    await projection.project(rest)
    log.read = 0
    await projection.project([late])
    assert (await snapshots.load_many([KEY]))[KEY].snapshot == reduce(
        history, tenant_id="demo", user_id="u1"
    )
    assert log.read <= 500


async def test_shuffled_late_arrivals_with_dense_checkpoints_equal_the_full_fold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replay_module, "CHECKPOINT_EVERY", 3)
    history = events(40)
    for seed in range(20):
        rng = random.Random(seed)
        shuffled = history[:]
        rng.shuffle(shuffled)
        log, snapshots, kept = (
            InMemoryEventLog(),
            InMemorySnapshotStore(),
            InMemorySnapshotCheckpoints(),
        )
        projection = Projection(log, snapshots, checkpoints=kept)
        while shuffled:
            size = rng.randint(1, 6)
            batch, shuffled = shuffled[:size], shuffled[size:]
            await projection.project(batch + rng.sample(history, 1))
        assert (await snapshots.load_many([KEY]))[KEY].snapshot == reduce(
            history, tenant_id="demo", user_id="u1"
        ), f"seed {seed}"


async def test_two_caching_projectors_and_a_rebuild_never_write_over_each_other() -> None:
    log, store = InMemoryEventLog(), InMemorySnapshotStore()
    first = Projection(log, CachedSnapshots(store, 2**20))
    second = Projection(log, CachedSnapshots(store, 2**20))
    history = events(30)
    rng = random.Random(3)
    shuffled = rng.sample(history, len(history))
    for index in range(0, 30, 3):
        projector = first if index % 2 else second
        await projector.project(shuffled[index : index + 3])
        if index == 15:
            rebuilder = SnapshotRebuilder(log, store, InMemoryRebuildCheckpoints(), FixedClock())
            await rebuilder.run(RebuildScope())
    await first.project([history[0]])
    assert (await store.load_many([KEY]))[KEY].snapshot == reduce(
        history, tenant_id="demo", user_id="u1"
    )


class LosingSnapshots(InMemorySnapshotStore):
    """Snapshot writes that lose a given number of times to a rival writing the very same."""

    def __init__(self, losses: int) -> None:
        super().__init__()
        self.losses = losses

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        if self.losses:
            self.losses -= 1
            await super().save_many(updates)
            return {update.key for update in updates}
        return await super().save_many(updates)


async def test_a_batch_whose_last_allowed_round_wins_is_projected_not_reported_contended() -> None:
    batch = events(3)
    snapshots = LosingSnapshots(losses=4)  # rounds 1-4 lose, round 5 (the last allowed) wins
    await Projection(InMemoryEventLog(), snapshots).project(batch)
    assert snapshots.snapshots[KEY].snapshot == reduce(batch, tenant_id="demo", user_id="u1")
    with pytest.raises(ConcurrentWriters, match="1 users still contended after 5 rounds"):
        await Projection(InMemoryEventLog(), LosingSnapshots(losses=5)).project(batch)
