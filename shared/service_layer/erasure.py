"""Erasing one user everywhere Progress Sync stores them (the right to be forgotten).

Erasure leaves a tombstone first, then deletes: the gateway refuses the user's writes (410),
and projectors drop the user's events still in flight. A projector checks the tombstones
before its writes and again after them, and erases what it wrote if the user was buried
meanwhile, so no snapshot or log entry written in a race survives the erasure.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from shared.service_layer.changes import SnapshotChange
from shared.service_layer.ports import ChangeAnnouncer, TombstoneStore, UserDataStore
from shared.service_layer.records import UserKey

__all__ = ["Erasure", "erase_user", "reenable_user"]

log = structlog.stdlib.get_logger(__name__)


async def erase_user(
    tombstones: TombstoneStore,
    store: UserDataStore,
    tenant_id: str,
    user_id: str,
    changes: ChangeAnnouncer | None = None,
) -> dict[str, int]:
    """Bury the user, delete their documents from every collection, and audit the erasure.

    Returns how many documents each collection lost. The audit entry records the tenant and
    those counts, never the user id. Idempotent: erasing again deletes nothing more. Events
    still in Kafka topics are dropped by the projectors when they arrive. With `changes`,
    the emptied snapshot is announced (cursor 0), so its followers drop the user too.
    """
    await tombstones.bury(tenant_id, user_id)
    deleted = await store.erase(tenant_id, user_id)
    if changes is not None:
        await changes.announce([SnapshotChange(tenant_id, user_id, 0)])
    await store.audit("erase", tenant_id, deleted)
    return deleted


async def reenable_user(
    tombstones: TombstoneStore, store: UserDataStore, tenant_id: str, user_id: str
) -> bool:
    """Let an erased id be used again (an operator's deliberate choice); audited.

    Returns False if the user was not erased.
    """
    found = await tombstones.exhume(tenant_id, user_id)
    if found:
        await store.audit("reenable", tenant_id, {})
    return found


class Erasure:
    """What a projection needs to honour erasures: who is erased, and a way to sweep."""

    def __init__(self, tombstones: TombstoneStore, store: UserDataStore) -> None:
        self._tombstones = tombstones
        self._store = store

    async def erased(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """The users among `keys` that are erased."""
        if not keys:
            return set()
        return await self._tombstones.erased(keys)

    async def sweep(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """Erase again whatever was written for users buried meanwhile; return those users."""
        buried = await self.erased(keys)
        for tenant_id, user_id in sorted(buried):
            await self._store.erase(tenant_id, user_id)
            log.warning("erased_user_swept", tenant=tenant_id)
        return buried
