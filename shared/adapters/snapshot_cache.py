"""A bounded cache of the snapshots a projector wrote, so it need not read them back.

Bounded by what its entries cost in memory, not by their count: one user's snapshot may be a
hundred times another's, and a count bound let a projector's memory grow with the size of
the users it served. Each entry holds the snapshot's stored encoding (UTF-8 JSON), decoded
on a hit, and is counted at its length plus `ENTRY_OVERHEAD`, which is what it costs: a
16 MiB cache grows the process by about 16 MiB (`python -m bench.cache_memory`), where held
decoded and counted at their stored size, its snapshots took 36 to 43 MiB.

Safe by construction: every write names the seq and version it replaces, so a cached copy
that another writer (a second projector, a rebuild, an erasure) outdated only makes that one
write fail as stale, and a stale user is dropped from the cache and read again.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from cachetools import LRUCache

from shared.domain import QuotaUsage, Snapshot
from shared.service_layer.ports import SnapshotStore
from shared.service_layer.stored_snapshots import SnapshotUpdate, StoredSnapshot
from shared.service_layer.user_keys import UserKey

__all__ = ["ENTRY_OVERHEAD", "CachedSnapshots"]

ENTRY_OVERHEAD = 450
"""Bytes an entry costs besides its encoding: its key, the entry and the LRU's bookkeeping
(measured with tracemalloc, and checked by tests/unit/test_snapshot_cache.py)."""


@dataclass(frozen=True, slots=True)
class _Kept:
    """A cached snapshot as its stored encoding, with what a hit returns beside it."""

    encoded: bytes
    seq: int
    size: int | None
    version: int

    @property
    def cost(self) -> int:
        return len(self.encoded) + ENTRY_OVERHEAD

    def stored(self) -> StoredSnapshot:
        """The snapshot as it was kept, decoded anew (so no two readers share one)."""
        return StoredSnapshot(
            Snapshot.from_storage(self.encoded), self.seq, size=self.size, version=self.version
        )


class CachedSnapshots:
    """A `SnapshotStore` that remembers the snapshots it last read or wrote.

    As many as fit in `budget_bytes` of memory (0: none).
    """

    def __init__(self, store: SnapshotStore, budget_bytes: int) -> None:
        self._store = store
        self._kept: LRUCache[UserKey, _Kept] = LRUCache(
            maxsize=budget_bytes, getsizeof=lambda kept: kept.cost
        )

    @property
    def cost(self) -> int:
        """Bytes the kept snapshots are accounted at (at most the budget)."""
        return int(self._kept.currsize)

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        """Cached snapshots as they were; the others from the store (and then cached)."""
        found = {key: self._kept[key].stored() for key in keys if key in self._kept}
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = await self._store.load_many(missing)
            for key, stored in loaded.items():
                if stored.unreadable is None:
                    encoded = stored.snapshot.to_storage().encode()
                    self._keep(key, _Kept(encoded, stored.seq, stored.size, stored.version))
            found.update(loaded)
        return found

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        """Write through; remember what was written, forget whoever turned out stale."""
        stale = await self._store.save_many(updates)
        for update in updates:
            if update.key in stale:
                self._kept.pop(update.key, None)
            else:
                encoded = update.encoded
                version = update.expected_version + 1
                self._keep(update.key, _Kept(encoded.encode(), update.seq, len(encoded), version))
        return stale

    async def count_of(self, tenant: str) -> int:
        """As the store's."""
        return await self._store.count_of(tenant)

    def walk(self, tenant: str, after: str | None, page: int) -> AsyncGenerator[list[Snapshot]]:
        """As the store's (not cached: a walk reads each snapshot once)."""
        return self._store.walk(tenant, after, page)

    async def positions(self, keys: Sequence[UserKey]) -> dict[UserKey, int]:
        """As the store's (not cached: others may have moved on)."""
        return await self._store.positions(keys)

    async def usage(self, keys: Sequence[UserKey]) -> dict[UserKey, QuotaUsage]:
        """As the store's."""
        return await self._store.usage(keys)

    def _keep(self, key: UserKey, kept: _Kept) -> None:
        try:
            self._kept[key] = kept
        except ValueError:
            self._kept.pop(key, None)
