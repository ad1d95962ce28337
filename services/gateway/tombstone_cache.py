"""Erased users, looked up with a short cache so a write costs no extra database read."""

from __future__ import annotations

from collections.abc import Sequence

from cachetools import TTLCache

from shared.service_layer.ports import TombstoneStore
from shared.service_layer.user_keys import UserKey

__all__ = ["CachedTombstones"]

_MAX_ENTRIES = 100_000


class CachedTombstones:
    """Remembers, per user, whether they are erased for `ttl` seconds (hits and misses).

    The gateway's answer may lag an erasure by `ttl`; projectors check the tombstones
    themselves and drop what slipped through, so nothing of an erased user is stored.
    """

    def __init__(self, tombstones: TombstoneStore, ttl: float) -> None:
        self._tombstones = tombstones
        self._known: TTLCache[UserKey, bool] = TTLCache(_MAX_ENTRIES, ttl)

    async def erased(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """The erased users among `keys`; only users not cached cost a query."""
        unknown = [key for key in keys if key not in self._known]
        if unknown:
            found = await self._tombstones.erased(unknown)
            for key in unknown:
                self._known[key] = key in found
        return {key for key in keys if self._known.get(key)}

    def forget(self, key: UserKey) -> None:
        """Drop what is remembered of the user: the next look-up asks the store."""
        self._known.pop(key, None)

    async def bury(self, tenant_id: str, user_id: str) -> None:
        """Record an erasure (and remember it here at once)."""
        await self._tombstones.bury(tenant_id, user_id)
        self._known[(tenant_id, user_id)] = True

    async def exhume(self, tenant_id: str, user_id: str) -> bool:
        """Forget an erasure (and here at once)."""
        self._known.pop((tenant_id, user_id), None)
        return await self._tombstones.exhume(tenant_id, user_id)
