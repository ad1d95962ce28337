"""Rebuilding snapshots from the event log: resumable, and safe while projectors run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.event_log import MongoEventLog
from shared.adapters.mongo import EVENTS, Document, outage_errors
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import reduce
from shared.service_layer.ports import LogEntry, SnapshotUpdate, UserKey

__all__ = ["REBUILD_RUNS", "RebuildReport", "RebuildScope", "SnapshotRebuilder"]

REBUILD_RUNS = "rebuild_runs"
_CHUNK = 100
_MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class RebuildScope:
    """Which users to rebuild: everyone, one tenant, or one user of a tenant."""

    tenant_id: str | None = None
    user_id: str | None = None

    @property
    def run_id(self) -> str:
        """The checkpoint's id: one resumable run per scope."""
        return f"tenant={self.tenant_id or '*'};user={self.user_id or '*'}"

    def log_filter(self) -> Document:
        """The event-log filter that selects this scope's users."""
        query: Document = {}
        if self.tenant_id is not None:
            query["t"] = self.tenant_id
        if self.user_id is not None:
            query["u"] = self.user_id
        return query


@dataclass(slots=True)
class RebuildReport:
    """How many users the scope has, how many this run rebuilt, and how many it skipped."""

    total: int = 0
    rebuilt: int = 0
    skipped: int = 0


class SnapshotRebuilder:
    """Recomputes each user's snapshot with `reduce` over the whole log.

    Users are taken in a fixed order, in chunks of a hundred (one read of their snapshots,
    one of their logs, one bulk write), with a checkpoint after each chunk, so an interrupted
    run resumes after the last finished chunk. Each snapshot is written with the
    same optimistic check the projector uses: if a projector moved it on meanwhile, that user
    is recomputed, never overwritten with older state.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._log = MongoEventLog(db)
        self._snapshots = MongoSnapshotStore(db)
        self._runs = db[REBUILD_RUNS]

    async def users(self, scope: RebuildScope) -> list[UserKey]:
        """Every user with at least one event in the scope, sorted."""
        pipeline: list[Document] = [
            {"$match": scope.log_filter()},
            {"$group": {"_id": {"t": "$t", "u": "$u"}}},
        ]
        async with outage_errors():
            cursor = await self._db[EVENTS].aggregate(pipeline)
            groups = await cursor.to_list()
        return sorted((group["_id"]["t"], group["_id"]["u"]) for group in groups)

    async def run(
        self,
        scope: RebuildScope,
        *,
        restart: bool = False,
        progress: Callable[[RebuildReport], None] | None = None,
    ) -> RebuildReport:
        """Rebuild the scope's users, resuming an unfinished run unless `restart`."""
        users = await self.users(scope)
        report = RebuildReport(total=len(users))
        checkpoint = None if restart else await self._checkpoint(scope)
        done_up_to: UserKey | None = None
        if checkpoint and not checkpoint["done"] and checkpoint.get("last"):
            tenant, user = checkpoint["last"]
            done_up_to = (tenant, user)
        started = datetime.now(UTC)
        todo = [key for key in users if done_up_to is None or key > done_up_to]
        report.skipped = len(users) - len(todo)
        for first in range(0, len(todo), _CHUNK):
            chunk = todo[first : first + _CHUNK]
            await self._rebuild_chunk(chunk)
            report.rebuilt += len(chunk)
            await self._save(scope, chunk[-1], done=False, started=started)
            if progress is not None:
                progress(report)
        await self._save(scope, todo[-1] if todo else done_up_to, done=True, started=started)
        return report

    async def _rebuild_chunk(self, keys: list[UserKey]) -> None:
        """Reduce each user's whole log and write the snapshots in one bulk.

        Users whose snapshot a projector moved on meanwhile are recomputed and written again.
        """
        pending = keys
        for _ in range(_MAX_ATTEMPTS):
            stored = await self._snapshots.load_many(pending)
            histories = await self._histories(pending)
            updates = []
            for key in pending:
                history = histories.get(key, [])
                if not history:
                    continue
                snapshot = reduce((e.event for e in history), tenant_id=key[0], user_id=key[1])
                expected = stored[key].seq if key in stored else 0
                updates.append(SnapshotUpdate(key, snapshot, history[-1].seq, expected))
            stale = await self._snapshots.save_many(updates)
            if not stale:
                return
            pending = sorted(stale)
        raise RuntimeError(f"{len(pending)} snapshots kept changing; run rebuild again")

    async def _histories(self, keys: list[UserKey]) -> dict[UserKey, list[LogEntry]]:
        """The whole logs of these users in seq order, one query per tenant."""
        by_tenant: dict[str, list[str]] = {}
        for tenant, user in keys:
            by_tenant.setdefault(tenant, []).append(user)
        histories: dict[UserKey, list[LogEntry]] = {}
        for tenant, users in by_tenant.items():
            for key, entries in (await self._log.of_users(tenant, users)).items():
                histories[key] = entries
        return histories

    async def _checkpoint(self, scope: RebuildScope) -> Document | None:
        async with outage_errors():
            found: Document | None = await self._runs.find_one({"_id": scope.run_id})
        return found

    async def _save(
        self, scope: RebuildScope, last: UserKey | None, *, done: bool, started: datetime
    ) -> None:
        update: dict[str, Any] = {"done": done, "updatedAt": datetime.now(UTC)}
        if last is not None:
            update["last"] = list(last)
        async with outage_errors():
            await self._runs.update_one(
                {"_id": scope.run_id},
                {"$set": update, "$setOnInsert": {"startedAt": started}},
                upsert=True,
            )
