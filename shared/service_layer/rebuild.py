"""Rebuilding snapshots from the event log: resumable, and safe while projectors run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shared.domain import reduce
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.ports import (
    ChangeAnnouncer,
    Clock,
    EventLog,
    RebuildCheckpoints,
    SnapshotStore,
)
from shared.service_layer.stored_snapshots import SnapshotUpdate
from shared.service_layer.user_keys import UserKey

__all__ = ["RebuildReport", "RebuildScope", "SnapshotRebuilder", "SnapshotsKeptChanging"]

_CHUNK = 100
_MAX_ATTEMPTS = 5


class SnapshotsKeptChanging(Exception):
    """Projectors kept moving some snapshots on while they were rebuilt; run rebuild again."""


@dataclass(frozen=True, slots=True)
class RebuildScope:
    """Which users to rebuild: everyone, one tenant, or one user of a tenant."""

    tenant_id: str | None = None
    user_id: str | None = None

    @property
    def run_id(self) -> str:
        """The checkpoint's id: one resumable run per scope."""
        return f"tenant={self.tenant_id or '*'};user={self.user_id or '*'}"


@dataclass(slots=True)
class RebuildReport:
    """How many users the scope has, how many this run rebuilt and skipped, and which failed.

    `failed` holds users whose log could not be reduced, with the reason; the run goes on
    past them, and their snapshots stay as they were.
    """

    total: int = 0
    rebuilt: int = 0
    skipped: int = 0
    failed: list[tuple[UserKey, str]] = field(default_factory=list)


class SnapshotRebuilder:
    """Recomputes each user's snapshot with `reduce` over the whole log.

    Users are taken in a fixed order, in chunks of a hundred (one read of their snapshots,
    one of their logs, one bulk write), with a checkpoint after each chunk, so an interrupted
    run resumes after the last finished chunk. Each snapshot is written with the same
    optimistic check the projector uses: if a projector moved it on meanwhile, that user is
    recomputed, never overwritten with older state. Each chunk's written snapshots are
    announced as changes before its checkpoint.
    """

    def __init__(
        self,
        events: EventLog,
        snapshots: SnapshotStore,
        checkpoints: RebuildCheckpoints,
        clock: Clock,
        changes: ChangeAnnouncer | None = None,
    ) -> None:
        self._log = events
        self._changes = changes
        self._snapshots = snapshots
        self._checkpoints = checkpoints
        self._clock = clock

    async def run(
        self,
        scope: RebuildScope,
        *,
        restart: bool = False,
        progress: Callable[[RebuildReport], None] | None = None,
    ) -> RebuildReport:
        """Rebuild the scope's users, resuming an unfinished run unless `restart`."""
        users = await self._log.users(scope.tenant_id, scope.user_id)
        report = RebuildReport(total=len(users))
        done_up_to = None if restart else await self._checkpoints.last_done(scope.run_id)
        started = self._clock.now()
        todo = [key for key in users if done_up_to is None or key > done_up_to]
        report.skipped = len(users) - len(todo)
        for first in range(0, len(todo), _CHUNK):
            chunk = todo[first : first + _CHUNK]
            failed = await self._rebuild_chunk(chunk)
            report.failed.extend(failed)
            report.rebuilt += len(chunk) - len(failed)
            await self._checkpoints.save(scope.run_id, chunk[-1], done=False, started=started)
            if progress is not None:
                progress(report)
        last = todo[-1] if todo else done_up_to
        await self._checkpoints.save(scope.run_id, last, done=True, started=started)
        return report

    async def _rebuild_chunk(self, keys: list[UserKey]) -> list[tuple[UserKey, str]]:
        """Reduce each user's whole log and write the snapshots in one bulk.

        Users whose snapshot a projector moved on meanwhile are recomputed and written again;
        users whose log cannot be reduced are returned with the reason, the others written.
        """
        pending = keys
        failed: dict[UserKey, str] = {}
        for _ in range(_MAX_ATTEMPTS):
            stored = await self._snapshots.load_many(pending)
            histories = await self._histories(pending)
            updates = []
            for key in pending:
                history = histories.get(key, [])
                if not history:
                    continue
                try:
                    snapshot = reduce((e.event for e in history), tenant_id=key[0], user_id=key[1])
                except Exception as error:  # one user's bad log never stops the run
                    failed[key] = f"{type(error).__name__}: {str(error)[:300]}"
                    continue
                found = stored.get(key)
                expected, version = (found.seq, found.version) if found else (0, 0)
                updates.append(SnapshotUpdate(key, snapshot, history[-1].seq, expected, version))
            stale = await self._snapshots.save_many(updates)
            if self._changes is not None:
                await self._changes.announce(
                    [SnapshotChange(*u.key, u.seq) for u in updates if u.key not in stale]
                )
            if not stale:
                return sorted(failed.items())
            pending = sorted(stale)
        raise SnapshotsKeptChanging(f"{len(pending)} snapshots kept changing; run rebuild again")

    async def _histories(self, keys: list[UserKey]) -> dict[UserKey, list[LogEntry]]:
        """The whole logs of these users in seq order, one query per tenant."""
        by_tenant: dict[str, list[str]] = {}
        for tenant, user in keys:
            by_tenant.setdefault(tenant, []).append(user)
        histories: dict[UserKey, list[LogEntry]] = {}
        for tenant, users in by_tenant.items():
            histories.update(await self._log.of_users(tenant, users))
        return histories
