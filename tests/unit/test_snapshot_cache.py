"""The projector's snapshot cache: bounded by the snapshots' stored size, least recent out."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Sequence

from shared.adapters.snapshot_cache import ENTRY_OVERHEAD, CachedSnapshots
from shared.domain import RecordedEvent
from shared.service_layer.projection import Projection
from shared.service_layer.stored_snapshots import StoredSnapshot
from shared.service_layer.user_keys import UserKey
from tests.fakes import InMemoryEventLog, InMemorySnapshotStore
from tests.support.cache_fill import ForgetfulSnapshotStore, fill
from tests.support.projector import learner_snapshots
from tests.unit.domain.builders import raw_event, record


class CountingStore(InMemorySnapshotStore):
    """Remembers which users were read from the store (the reads the cache should save)."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[UserKey] = []

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        self.read.extend(keys)
        return await super().load_many(keys)


def progress(user: str, items: int, minute: int = 0) -> list[RecordedEvent]:
    return [
        record(
            raw_event(
                "content.progressed",
                f"2026-11-20T10:{minute:02d}:{second:02d}Z",
                {"contentId": f"lesson-{second}", "status": "in_progress"},
                event_id=f"{user}-{minute}-{second}",
            ),
            user=user,
        )
        for second in range(items)
    ]


async def size_of(user: str, items: int) -> int:
    """The stored size of a user's snapshot after `progress(user, items)`."""
    store = InMemorySnapshotStore()
    await Projection(InMemoryEventLog(), store).project(progress(user, items))
    size = store.snapshots[("demo", user)].size
    assert size is not None
    return size


async def test_keeps_the_most_recent_snapshots_that_fit_the_budget() -> None:
    budget = 2 * (await size_of("a", 3) + ENTRY_OVERHEAD) + 10
    store = CountingStore()
    projection = Projection(InMemoryEventLog(), CachedSnapshots(store, budget))
    for user in ("a", "b", "c"):
        await projection.project(progress(user, 3))
    store.read.clear()

    for user in ("b", "c", "a"):
        await projection.project(progress(user, 3, minute=1))

    assert store.read == [("demo", "a")], "b and c fit the budget; a was evicted first"


async def test_a_snapshot_larger_than_the_budget_is_never_kept() -> None:
    budget = await size_of("big", 3) + 10
    store = CountingStore()
    projection = Projection(InMemoryEventLog(), CachedSnapshots(store, budget))
    await projection.project(progress("big", 3))
    await projection.project(progress("big", 40, minute=1))
    store.read.clear()

    await projection.project(progress("big", 1, minute=2))

    assert store.read == [("demo", "big")], "the outgrown copy was dropped, not kept stale"
    stored = store.snapshots[("demo", "big")]
    assert stored.size is not None
    assert stored.size > budget


async def test_a_zero_budget_reads_every_snapshot_back() -> None:
    store = CountingStore()
    projection = Projection(InMemoryEventLog(), CachedSnapshots(store, 0))
    await projection.project(progress("a", 2))
    await projection.project(progress("a", 2, minute=1))
    assert store.read == [("demo", "a"), ("demo", "a")]


async def test_the_budget_counts_what_the_kept_snapshots_cost_in_memory() -> None:
    """Held decoded, a cached snapshot cost about three times the stored size it was
    counted at, and a projector's memory several times its budget."""
    learner_snapshots(1)  # the templates the learners are copied from, made before measuring
    gc.collect()
    tracemalloc.start()
    try:
        cache = CachedSnapshots(ForgetfulSnapshotStore(), 2**30)
        await fill(cache, 500)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()

    assert abs(cache.cost - held) <= 0.1 * held, f"accounted {cache.cost} B, held {held} B"
