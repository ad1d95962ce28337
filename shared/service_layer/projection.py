"""Projecting events into the log and the snapshots: the one code path of projector and retries.

Exactly-once effect comes from what the database enforces: the log refuses a second event
under one eventId, and each snapshot records the highest log `seq` it has applied. Entries
above that seq (left by a crash between the two writes, or by a concurrent writer) are
picked up and applied by the next projection that touches the user.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.adapters.logs import get_logger
from shared.domain import LateEvent, RecordedEvent, Snapshot, apply, dedupe, reduce
from shared.service_layer.ports import (
    EventLog,
    LogEntry,
    SnapshotStore,
    SnapshotUpdate,
    StoredSnapshot,
    UserKey,
)

__all__ = ["ConcurrentWriters", "Projection", "ProjectionReport"]

_MAX_ROUNDS = 5
log = get_logger(__name__)


class ConcurrentWriters(Exception):
    """Another writer kept moving the same users' snapshots on; try the batch again later."""


@dataclass(slots=True)
class ProjectionReport:
    """What one projection did: counts per outcome, replays, and events that failed."""

    applied: list[RecordedEvent] = field(default_factory=list)
    duplicates: int = 0
    conflicts: int = 0
    replays: list[float] = field(default_factory=list)
    failed: list[tuple[RecordedEvent, str]] = field(default_factory=list)


class Projection:
    """Stores events once in the log and brings their users' snapshots up to date."""

    def __init__(self, events: EventLog, snapshots: SnapshotStore) -> None:
        self._log = events
        self._snapshots = snapshots

    async def project(self, events: Sequence[RecordedEvent]) -> ProjectionReport:
        """Project a batch: one log append and one snapshot write per user per round.

        Idempotent: projecting the same events again changes nothing and counts them as
        duplicates. Raises `StoreUnavailable` on an outage (nothing is lost: redeliver the
        batch) and `ConcurrentWriters` if other writers keep winning.
        """
        report = ProjectionReport()
        pending: dict[UserKey, list[RecordedEvent]] = {}
        for event in events:
            pending.setdefault((event.tenant_id, event.user_id), []).append(event)
        for key, user_events in list(pending.items()):
            deduped = dedupe(user_events)
            report.duplicates += deduped.repeats
            self._count_conflicts(report, deduped.conflicts)
            pending[key] = deduped.unique
        for _ in range(_MAX_ROUNDS):
            if not pending:
                return report
            pending = await self._round(pending, report)
        raise ConcurrentWriters(f"{len(pending)} users still contended after {_MAX_ROUNDS} rounds")

    async def _round(
        self, pending: dict[UserKey, list[RecordedEvent]], report: ProjectionReport
    ) -> dict[UserKey, list[RecordedEvent]]:
        keys = list(pending)
        stored = await self._snapshots.load_many(keys)
        positions = {key: stored[key].seq if key in stored else 0 for key in keys}
        unapplied = await self._log.after(positions)
        entries: list[LogEntry] = []
        for key, user_events in pending.items():
            top = max((e.seq for e in unapplied.get(key, ())), default=positions[key])
            entries.extend(LogEntry(top + i, ev) for i, ev in enumerate(user_events, start=1))
        appended = await self._log.append(entries)
        retry: dict[UserKey, list[RecordedEvent]] = {}
        for entry in appended.collisions:
            retry.setdefault(_key(entry.event), []).append(entry.event)
        report.failed.extend((entry.event, reason) for entry, reason in appended.rejected)
        await self._sort_out_duplicates(appended.duplicates, unapplied, report)

        new_entries: dict[UserKey, list[LogEntry]] = {}
        for entry in appended.inserted:
            new_entries.setdefault(_key(entry.event), []).append(entry)
        updates: list[SnapshotUpdate] = []
        to_count: dict[UserKey, list[RecordedEvent]] = {}
        for key in keys:
            todo = [*unapplied.get(key, ()), *new_entries.get(key, ())]
            if not todo:
                continue
            snapshot = await self._advance(key, stored.get(key), todo, report)
            top = max(entry.seq for entry in todo)
            updates.append(SnapshotUpdate(key, snapshot, top, positions[key]))
            to_count[key] = [entry.event for entry in todo]
        stale = await self._snapshots.save_many(updates)
        for key, applied in to_count.items():
            if key in stale:
                retry.setdefault(key, [])
            else:
                report.applied.extend(applied)
        return retry

    async def _advance(
        self,
        key: UserKey,
        stored: StoredSnapshot | None,
        todo: list[LogEntry],
        report: ProjectionReport,
    ) -> Snapshot:
        base = stored.snapshot if stored else Snapshot.empty(*key)
        try:
            return apply(base, [entry.event for entry in todo])
        except LateEvent as late:
            started = time.perf_counter()
            history = (await self._log.after({key: 0})).get(key, [])
            snapshot = reduce((e.event for e in history), tenant_id=key[0], user_id=key[1])
            report.replays.append(time.perf_counter() - started)
            log.info("snapshot_replayed", late_event_id=late.event_id, events=len(history))
            return snapshot

    async def _sort_out_duplicates(
        self,
        duplicates: list[LogEntry],
        unapplied: dict[UserKey, list[LogEntry]],
        report: ProjectionReport,
    ) -> None:
        by_user: dict[UserKey, list[RecordedEvent]] = {}
        for entry in duplicates:
            by_user.setdefault(_key(entry.event), []).append(entry.event)
        for key, sent in by_user.items():
            stored = await self._log.find(key, [event.event_id for event in sent])
            waiting = {entry.event.event_id for entry in unapplied.get(key, ())}
            for event in sent:
                first = stored.get(event.event_id)
                if first is not None and first.event.content_hash() != event.content_hash():
                    self._count_conflicts(report, [(first.event, event)])
                elif event.event_id not in waiting:
                    report.duplicates += 1

    @staticmethod
    def _count_conflicts(
        report: ProjectionReport, pairs: Sequence[tuple[RecordedEvent, RecordedEvent]]
    ) -> None:
        for kept, dropped in pairs:
            report.conflicts += 1
            log.warning(
                "event_conflict",
                tenant=kept.tenant_id,
                event_id=kept.event_id,
                stored_hash=kept.content_hash(),
                refused_hash=dropped.content_hash(),
            )


def _key(event: RecordedEvent) -> UserKey:
    return (event.tenant_id, event.user_id)
