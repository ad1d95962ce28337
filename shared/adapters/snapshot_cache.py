"""A bounded cache of the snapshots a projector wrote, so it need not read them back.

Bounded by the snapshots' stored size, not their count: one user's snapshot may be a hundred
times another's, and a count bound let a projector's memory grow with the size of the users it
served. The copies are held decoded, so the process grows by several times the budget
(the README gives the measured figures).

Safe by construction: every write names the seq and version it replaces, so a cached copy
that another writer (a second projector, a rebuild, an erasure) outdated only makes that one
write fail as stale, and a stale user is dropped from the cache and read again.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from cachetools import LRUCache

from shared.domain import QuotaUsage, Snapshot
from shared.service_layer.ports import SnapshotStore
from shared.service_layer.records import SnapshotUpdate, StoredSnapshot, UserKey

__all__ = ["CachedSnapshots"]


def _stored_size(stored: StoredSnapshot) -> int:
    if stored.size is not None:
        return stored.size
    return len(stored.snapshot.to_storage())


class CachedSnapshots:
    """A `SnapshotStore` that remembers the snapshots it last read or wrote.

    As many as fit in `budget_bytes` of their stored encoding (0: none).
    """

    def __init__(self, store: SnapshotStore, budget_bytes: int) -> None:
        self._store = store
        self._kept: LRUCache[UserKey, StoredSnapshot] = LRUCache(
            maxsize=budget_bytes, getsizeof=_stored_size
        )

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        """Cached snapshots as they are; the others from the store (and then cached)."""
        found = {key: self._kept[key] for key in keys if key in self._kept}
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = await self._store.load_many(missing)
            for key, stored in loaded.items():
                if stored.unreadable is None:
                    self._keep(key, stored)
            found.update(loaded)
        return found

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        """Write through; remember what was written, forget whoever turned out stale."""
        stale = await self._store.save_many(updates)
        for update in updates:
            if update.key in stale:
                self._kept.pop(update.key, None)
            else:
                self._keep(
                    update.key,
                    StoredSnapshot(
                        update.snapshot,
                        update.seq,
                        size=len(update.encoded),
                        version=update.expected_version + 1,
                    ),
                )
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

    def _keep(self, key: UserKey, stored: StoredSnapshot) -> None:
        try:
            self._kept[key] = stored
        except ValueError:
            self._kept.pop(key, None)
