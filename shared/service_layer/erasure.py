"""Erasing one user everywhere Progress Sync stores them (the right to be forgotten).

Erasure leaves a tombstone first, then deletes: the gateway refuses the user's writes (410),
and projectors drop the user's events still in flight. A projector checks the tombstones
before its writes and again after them, and erases what it wrote if the user was buried
meanwhile, so no snapshot or log entry written in a race survives the erasure.

The gateway stores xAPI statements and documents itself, and its tombstone cache may still
say "not erased" for a while after the burial; so the erase sweeps a second time once every
gateway's cache has expired. The due time of that sweep is recorded with the tombstone, so
re-running an erase that crashed meanwhile waits only for what is left, then sweeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import structlog

from shared.service_layer.changes import SnapshotChange
from shared.service_layer.ports import (
    ChangeAnnouncer,
    Clock,
    TombstoneLedger,
    TombstoneStore,
    UserDataStore,
)
from shared.service_layer.user_keys import UserKey

__all__ = ["Erasure", "erase_user", "reenable_user"]

log = structlog.stdlib.get_logger(__name__)


async def erase_user(
    tombstones: TombstoneLedger,
    store: UserDataStore,
    tenant_id: str,
    user_id: str,
    *,
    clock: Clock,
    settle_seconds: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    changes: ChangeAnnouncer | None = None,
) -> dict[str, int]:
    """Bury the user, delete their documents everywhere, sweep again later, audit the erasure.

    The second sweep runs `settle_seconds` after the first run buried the user (the gateways'
    tombstone cache lifetime and a margin for requests in flight) and removes what a gateway
    wrote meanwhile. Returns how many documents each collection lost, both sweeps together;
    the audit entry records the tenant and those counts, never the user id. Idempotent, and
    a re-run after a crash resumes the pending second sweep. Events still in Kafka topics
    are dropped by the projectors when they arrive. With `changes`, the emptied snapshot is
    announced (cursor 0) after each sweep, so its followers drop the user too.
    """
    await tombstones.bury(tenant_id, user_id)
    due = await tombstones.second_sweep_due(
        tenant_id, user_id, clock.now() + timedelta(seconds=settle_seconds)
    )
    deleted = await store.erase(tenant_id, user_id)
    if changes is not None:
        await changes.announce([SnapshotChange(tenant_id, user_id, 0)])
    if due is not None:
        wait = (due - clock.now()).total_seconds()
        if wait > 0:
            log.info("erasure_second_sweep_waiting", tenant=tenant_id, seconds=round(wait, 1))
            await sleep(wait)
        raced = await store.erase(tenant_id, user_id)
        if any(raced.values()):
            log.warning(
                "erasure_second_sweep_removed",
                tenant=tenant_id,
                deleted={name: count for name, count in raced.items() if count},
            )
        await tombstones.second_sweep_done(tenant_id, user_id)
        deleted = {name: deleted.get(name, 0) + raced.get(name, 0) for name in deleted | raced}
        if changes is not None and any(raced.values()):
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
