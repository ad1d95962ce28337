"""Filling the projector's snapshot cache as a projector does, for what it costs in memory
(tests/unit/test_snapshot_cache.py and `python -m bench.cache_memory`)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.adapters.snapshot_cache import CachedSnapshots
from shared.service_layer.stored_snapshots import SnapshotUpdate
from shared.service_layer.user_keys import UserKey
from tests.fakes import InMemorySnapshotStore
from tests.support.projector import TENANT, learner_snapshots

__all__ = ["BATCH", "ForgetfulSnapshotStore", "fill"]

BATCH = 100
"""Snapshots written per `save_many`, as a projector batch writes them."""


class ForgetfulSnapshotStore(InMemorySnapshotStore):
    """Accepts every write and keeps none, so all that stays in memory is the cache's."""

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        """Nothing stale, nothing stored."""
        return set()


async def fill(cache: CachedSnapshots, count: int, offset: int = 0) -> None:
    """Write learners `offset` to `offset + count` through `cache`, a batch at a time.

    Each batch's snapshots are fresh objects dropped after their write, as in a projector, so
    what stays in memory is what the cache keeps.
    """
    for start in range(offset, offset + count, BATCH):
        await cache.save_many(
            [
                SnapshotUpdate((TENANT, snapshot.user_id), snapshot, seq=100, expected_seq=0)
                for snapshot in learner_snapshots(min(BATCH, offset + count - start), offset=start)
            ]
        )
