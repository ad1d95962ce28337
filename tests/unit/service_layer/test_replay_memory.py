"""A projector's memory of replayed logs: what it saves in reads, and that it never misleads.

A late event makes the projection reduce the user's log again. With `replay_memory` the
projection keeps the gap-free stretch it read, and the next replay of that user reads only
the stretch's last entry and what came after. These tests hold it to two promises: far
fewer entries read, and snapshots equal to `reduce(log)` whatever happened to the log in
between (a concurrent writer filling a gap, an erase and a log begun again).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable

from shared.domain import RecordedEvent, reduce
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.projection import Projection
from shared.service_layer.replay import Replay, Replayer
from shared.service_layer.replay_memory import ReplayMemory
from tests.fakes import (
    CountingEventLog,
    HookedEventLog,
    InMemoryEventLog,
    InMemorySnapshotStore,
)
from tests.unit.domain.builders import rated_history as history

KEY = ("demo", "u1")


def entry(seq: int) -> LogEntry:
    return LogEntry(seq, history(seq + 1)[seq])


def test_only_entries_up_to_the_visible_head_are_kept() -> None:
    memory = ReplayMemory(100)
    memory.keep(KEY, 0, [entry(1), entry(2), entry(4), entry(6)], head=5)
    stretch = memory.covering(KEY, 0)
    assert stretch is not None
    assert [e.seq for e in stretch.entries] == [1, 2, 4]  # 3 and 5 are fillers, 6 may move
    assert memory.covering(KEY, 3) is stretch
    memory.keep(KEY, 2, [entry(4)], head=4)  # the log right after 2: nothing held below 3
    assert memory.covering(KEY, 1) is None


def test_the_budget_drops_the_least_recently_used_stretch() -> None:
    memory = ReplayMemory(5)
    other = ("demo", "u2")
    memory.keep(KEY, 0, [entry(1), entry(2), entry(3)], head=3)
    memory.keep(other, 0, [entry(1), entry(2)], head=2)
    assert memory.covering(KEY, 0) is not None  # used: u2 is now the oldest
    memory.keep(("demo", "u3"), 0, [entry(1)], head=1)
    assert memory.covering(other, 0) is None
    assert memory.covering(KEY, 0) is not None


def test_a_snapshot_standing_below_a_stretch_drops_it() -> None:
    memory = ReplayMemory(10)
    memory.keep(KEY, 0, [entry(1), entry(2), entry(3)], head=3)
    memory.forget_above([(KEY, 3)])
    assert memory.covering(KEY, 0) is not None
    memory.forget_above([(KEY, 2)])
    assert memory.covering(KEY, 0) is None


async def _late_arrivals(
    projection: Projection, events: list[RecordedEvent], late: int, batch: int = 50
) -> None:
    """The events in order except every `late`-th, which arrive afterwards one per batch."""
    held = events[::late]
    on_time = [event for event in events if event not in held]
    for first in range(0, len(on_time), batch):
        await projection.project(on_time[first : first + batch])
    for event in held:
        await projection.project([event])


async def test_replaying_a_user_again_reads_only_what_came_after_the_stretch() -> None:
    events = history(400)
    reads = {}
    for budget in (0, 10_000):
        log, snapshots = CountingEventLog(), InMemorySnapshotStore()
        projection = Projection(log, snapshots, replay_memory=budget)
        await _late_arrivals(projection, events, 40)
        assert (await snapshots.load_many([KEY]))[KEY].snapshot == reduce(
            events, tenant_id="demo", user_id="u1"
        )
        reads[budget] = log.read
    # ten late events: without memory each replay reads the whole log (about 400 entries)
    assert reads[0] > 3_500
    assert reads[10_000] < 800


async def test_a_filler_low_in_the_log_does_not_cut_what_is_remembered() -> None:
    """A redelivered duplicate leaves a filler (a crash, a rebalance): chaos logs have many."""
    events = history(400)
    log, snapshots = CountingEventLog(), InMemorySnapshotStore()
    await log.fill({KEY: [2]})
    projection = Projection(log, snapshots, replay_memory=10_000)
    await _late_arrivals(projection, events, 40)
    assert (await snapshots.load_many([KEY]))[KEY].snapshot == reduce(
        events, tenant_id="demo", user_id="u1"
    )
    assert log.read < 800


async def test_an_entry_landing_in_a_hole_after_a_replay_is_in_the_next_one() -> None:
    """Two writers can store positions out of order ([1, 3] now, 2 a moment later)."""
    events = history(3)
    log = InMemoryEventLog()
    await log.append([LogEntry(1, events[0]), LogEntry(3, events[2])])
    replayer = Replayer(log, None, ReplayMemory(100))
    await replayer.replay({KEY: Replay(3)})
    await log.append([LogEntry(2, events[1])])
    replayed = await replayer.replay({KEY: Replay(3)})
    assert replayed[KEY] == reduce(events, tenant_id="demo", user_id="u1")


async def test_a_log_erased_and_begun_again_is_never_replayed_from_memory() -> None:
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    projection = Projection(log, snapshots, replay_memory=10_000)
    await _late_arrivals(projection, history(120, "old"), 10)
    log.forget(KEY)  # what an erase does to the log and the snapshot
    del snapshots.snapshots[KEY]
    # one batch takes the new log past the old stretch's end before any replay: only the
    # check of the stretch's last entry against the log can tell the stretch is stale
    again = history(150, "new")
    await _late_arrivals(projection, again, 15, batch=200)
    assert (await snapshots.load_many([KEY]))[KEY].snapshot == reduce(
        again, tenant_id="demo", user_id="u1"
    )


async def _race(seed: int, events: list[RecordedEvent]) -> None:
    """Two remembering writers over one log; some appends of one let the other in first."""
    rng = random.Random(seed)
    log, snapshots = InMemoryEventLog(), InMemorySnapshotStore()
    shuffled = rng.sample(events, len(events))
    queue = [shuffled[first : first + 4] for first in range(0, len(shuffled), 4)]
    rival = Projection(log, snapshots, replay_memory=10_000)

    def rival_batch() -> Awaitable[object] | None:
        return rival.project(queue.pop() + rng.sample(events, 1)) if queue else None

    interrupting = HookedEventLog(log)
    writer = Projection(interrupting, snapshots, replay_memory=10_000)  # type: ignore[arg-type]
    while queue:
        interrupting.before_next_append = rival_batch if rng.random() < 0.4 else None
        await writer.project(queue.pop(0) + rng.sample(events, 1))
    await writer.project(rng.sample(events, 2))
    await rival.project(rng.sample(events, 2))
    assert (await snapshots.load_many([KEY]))[KEY].snapshot == reduce(
        events, tenant_id="demo", user_id="u1"
    ), f"seed {seed}"


async def test_two_remembering_writers_racing_with_late_events_equal_the_full_fold() -> None:
    events = history(90)
    for seed in range(25):
        await _race(seed, events)
