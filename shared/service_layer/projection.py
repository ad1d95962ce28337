"""Projecting events into the log and the snapshots: the one code path of projector and retries.

Exactly-once effect comes from what the database enforces: the log refuses a second event
under one eventId and a second entry under one seq of a user, and each snapshot records the
highest log `seq` it has applied. Entries above that seq that a writer did not put there
(left by a crash between the two writes, or by a concurrent writer) show up as seq
collisions or as redelivered duplicates stored above the snapshot's seq, and are applied
then. A writer whose snapshot write lost to a concurrent one rebuilds that snapshot from the
log, so an entry it slipped into a gap behind the winner is not lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import structlog

from shared.domain import (
    EventsRetracted,
    LateEvent,
    Quotas,
    RecordedEvent,
    Snapshot,
    admit,
    apply,
    dedupe,
    sort_key,
)
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.erasure import Erasure
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.foretell import foretell
from shared.service_layer.ports import (
    ChangeAnnouncer,
    EventLog,
    SnapshotCheckpoints,
    SnapshotStore,
)
from shared.service_layer.projection_report import ConcurrentWriters, ProjectionReport
from shared.service_layer.records import (
    AppendResult,
    LogEntry,
    SnapshotUpdate,
    StoredSnapshot,
    UserKey,
)
from shared.service_layer.replay import Replay, Replayer

__all__ = ["ConcurrentWriters", "Projection", "ProjectionReport"]

_MAX_ROUNDS = 5
log = structlog.stdlib.get_logger(__name__)


class Projection:
    """Stores events once in the log and brings their users' snapshots up to date."""

    def __init__(
        self,
        events: EventLog,
        snapshots: SnapshotStore,
        erasure: Erasure | None = None,
        quotas: Quotas | None = None,
        checkpoints: SnapshotCheckpoints | None = None,
        changes: ChangeAnnouncer | None = None,
    ) -> None:
        self._log = events
        self._changes = changes
        self._snapshots = snapshots
        self._erasure = erasure
        self._quotas = quotas
        self._replayer = Replayer(events, checkpoints)

    async def project(self, events: Sequence[RecordedEvent]) -> ProjectionReport:
        """Project a batch: one log append and one snapshot write per user per round.

        Idempotent: projecting the same events again changes nothing and counts them as
        duplicates. Events of erased users are dropped, and whatever this projection wrote
        for a user erased while it ran is erased again. Raises `StoreUnavailable` on an
        outage (nothing is lost: redeliver the batch), `StoreRejected` if the store refuses
        the batch's writes, and `ConcurrentWriters` if other writers keep winning.

        Before returning, it announces every user of the batch whose snapshot it wrote or
        found written (a redelivery announces again), and every user it swept as erased
        (cursor 0); `BrokerUnavailable` if that fails, and the batch must be redelivered.
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
        if self._erasure is not None:
            for key in await self._erasure.sweep(list(pending)):
                report.erased += len(pending.pop(key))
        touched = list(pending)
        rebuild: set[UserKey] = set()
        for number in range(_MAX_ROUNDS):
            if not pending:
                break
            pending, rebuild = await self._round(pending, rebuild, report, number == 0)
        else:
            raise ConcurrentWriters(
                f"{len(pending)} users still contended after {_MAX_ROUNDS} rounds"
            )
        buried: set[UserKey] = set()
        if self._erasure is not None:
            buried = await self._erasure.sweep(touched)
            if buried:
                report.applied = [e for e in report.applied if _key(e) not in buried]
        await self._announce(report, buried)
        return report

    async def _announce(self, report: ProjectionReport, buried: set[UserKey]) -> None:
        """Announce the batch's users' snapshot positions (erased ones at cursor 0)."""
        if self._changes is None:
            return
        await self._changes.announce(
            [
                SnapshotChange(*key, seq)
                for key, seq in sorted(report.cursors.items())
                if seq and key not in buried
            ]
            + [SnapshotChange(*key, 0) for key in sorted(buried)]
        )

    async def _round(
        self,
        pending: dict[UserKey, list[RecordedEvent]],
        rebuild: set[UserKey],
        report: ProjectionReport,
        first: bool,
    ) -> tuple[dict[UserKey, list[RecordedEvent]], set[UserKey]]:
        """One attempt: append above each snapshot's seq, then write each snapshot once.

        The log is only read for users whose append met entries this writer did not put
        there (a seq collision, or a duplicate stored above the snapshot's seq: a crash or a
        concurrent writer left them), so a quiet user costs no read of the log.
        """
        keys = list(pending)
        stored = await self._snapshots.load_many(keys)
        positions = {key: stored[key].seq if key in stored else 0 for key in keys}
        rebuild = rebuild | {key for key, found in stored.items() if found.unreadable}
        if first and self._quotas is not None:
            pending = self._within_quotas(pending, stored, self._quotas, report)
        appending = asyncio.ensure_future(
            self._log.append(
                [
                    LogEntry(positions[key] + index, event)
                    for key, user_events in pending.items()
                    for index, event in enumerate(user_events, start=1)
                ]
            )
        )
        try:
            await asyncio.sleep(0)  # the insert goes out, then the fold runs while it is stored
            foretold = foretell(pending, stored, positions, rebuild)
            appended = await appending
        except BaseException:
            appending.cancel()
            raise
        report.refused.extend((entry.event, reason) for entry, reason in appended.rejected)
        await self._fill_unused(appended)
        retry: dict[UserKey, list[RecordedEvent]] = {}
        for entry in appended.collisions:
            retry.setdefault(_key(entry.event), []).append(entry.event)
        unseen = set(retry) | await self._sort_out_duplicates(
            appended.duplicates, positions, report
        )
        unapplied = await self._log.after({key: positions[key] for key in unseen})

        todo: dict[UserKey, list[LogEntry]] = {key: unapplied.get(key, []) for key in unseen}
        for entry in appended.inserted:
            key = _key(entry.event)
            if key not in unseen:
                todo.setdefault(key, []).append(entry)
        tops = {key: max(e.seq for e in entries) for key, entries in todo.items() if entries}
        tops.update({key: positions[key] for key in rebuild if key not in tops})
        ready = {
            key: update
            for key, update in foretold.items()
            if key in tops and key not in unseen and len(todo[key]) == len(pending[key])
        }
        snapshots, broken = await self._advance(
            {key: top for key, top in tops.items() if key not in ready},
            stored,
            todo,
            rebuild,
            report,
        )
        snapshots.update((key, update.snapshot) for key, update in ready.items())
        for key, reason in broken.items():
            del tops[key]
            report.failed.extend((event, reason) for event in pending[key])
        stale = await self._snapshots.save_many(
            [
                ready.get(key)
                or SnapshotUpdate(
                    key,
                    snapshots[key],
                    top,
                    positions[key],
                    stored[key].version if key in stored else 0,
                )
                for key, top in tops.items()
            ]
        )
        report.cursors.update((key, found.seq) for key, found in stored.items())
        for key, top in tops.items():
            report.applied.extend(entry.event for entry in todo.get(key, ()))
            if key not in stale:
                report.cursors[key] = top
                await self._replayer.keep(key, positions[key], StoredSnapshot(snapshots[key], top))
        for key in stale:
            retry.setdefault(key, [])
        return retry, stale

    async def _fill_unused(self, appended: AppendResult) -> None:
        """Fill each position this append left unused below a taken one, so no cursor waits.

        A duplicate's or a refused entry's position under a stored entry would stay empty,
        holding the user's visible head back until a reader fills it, and a later writer
        could put an event there, under a cursor already handed out. A position above every
        taken one is no hole: the next append of the user takes it.
        """
        top: dict[UserKey, int] = {}
        for entry in [*appended.inserted, *appended.collisions]:
            top[_key(entry.event)] = max(top.get(_key(entry.event), 0), entry.seq)
        unused: dict[UserKey, list[int]] = {}
        for entry in [*appended.duplicates, *(entry for entry, _ in appended.rejected)]:
            if entry.seq < top.get(_key(entry.event), 0):
                unused.setdefault(_key(entry.event), []).append(entry.seq)
        if unused:
            await self._log.fill(unused)

    @staticmethod
    def _within_quotas(
        pending: dict[UserKey, list[RecordedEvent]],
        stored: dict[UserKey, StoredSnapshot],
        quotas: Quotas,
        report: ProjectionReport,
    ) -> dict[UserKey, list[RecordedEvent]]:
        """The events that fit their user's quotas; the others are reported, never stored."""
        fitting: dict[UserKey, list[RecordedEvent]] = {}
        for key, user_events in pending.items():
            found = stored.get(key)
            base = found.snapshot if found is not None else Snapshot.empty(*key)
            admitted, refused = admit(base, user_events, quotas, found.size if found else None)
            report.over_quota.extend(refused)
            if admitted:
                fitting[key] = admitted
        return fitting

    async def _advance(
        self,
        tops: dict[UserKey, int],
        stored: dict[UserKey, StoredSnapshot],
        todo: dict[UserKey, list[LogEntry]],
        rebuild: set[UserKey],
        report: ProjectionReport,
    ) -> tuple[dict[UserKey, Snapshot], dict[UserKey, str]]:
        """Each user's snapshot with its log applied up to `tops[key]`, and the users that broke.

        Folds the new entries on where they sort after the snapshot; otherwise (a late
        event, a user whose last write lost to a concurrent writer, or whose stored snapshot
        cannot be read) reduces the user's log up to that seq again, reading all such logs
        at once. A user whose fold raises is left out with the reason, so one user's poison
        never holds up the others: their events go to the retry tiers.
        """
        snapshots: dict[UserKey, Snapshot] = {}
        broken: dict[UserKey, str] = {}
        replay: dict[UserKey, Replay] = {key: Replay(tops[key]) for key in rebuild & tops.keys()}
        for key in tops.keys() - replay.keys():
            base = stored[key].snapshot if key in stored else Snapshot.empty(*key)
            try:
                snapshots[key] = apply(base, [entry.event for entry in todo[key]])
            except LateEvent:
                replay[key] = Replay(tops[key], _replay_from(todo[key]))
            except Exception as error:  # per-user isolation: any fault of this user's data
                broken[key] = _broken(key, error)
        if not replay:
            return snapshots, broken
        started = time.perf_counter()
        for key, job in replay.items():
            try:
                snapshots.update(await self._replayer.replay({key: job}))
            except StoreUnavailable:  # an outage, not this user's fault: the batch rewinds
                raise
            except Exception as error:  # per-user isolation, as above
                broken[key] = _broken(key, error)
                continue
            log.info("snapshot_replayed", tenant=key[0], late=job.late is not None)
        share = (time.perf_counter() - started) / len(replay)
        report.replays.extend(share for _ in replay)
        return snapshots, broken

    async def _sort_out_duplicates(
        self,
        duplicates: list[LogEntry],
        positions: dict[UserKey, int],
        report: ProjectionReport,
    ) -> set[UserKey]:
        """Count duplicates and conflicts; return the users whose stored copy awaits applying.

        A copy stored above the snapshot's seq was written by a writer that crashed or lost
        a race before its snapshot write: it is not a duplicate but work left to do.
        """
        wanted: dict[UserKey, list[str]] = {}
        for entry in duplicates:
            wanted.setdefault(_key(entry.event), []).append(entry.event.event_id)
        found = await self._log.find_many(wanted)
        waiting: set[UserKey] = set()
        for entry in duplicates:
            key = _key(entry.event)
            first = found.get(key, {}).get(entry.event.event_id)
            if first is not None and first.event.content_hash() != entry.event.content_hash():
                self._count_conflicts(report, [(first.event, entry.event)])
            elif first is None or first.seq <= positions[key]:
                report.duplicates += 1
            if first is not None and first.seq > positions[key]:
                waiting.add(key)
        return waiting

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


def _replay_from(entries: list[LogEntry]) -> tuple[datetime, str]:
    """Where a replay must start: at the earliest new event.

    At the very start when an event is retracted: every checkpoint may hold what it withdraws.
    """
    if any(isinstance(entry.event.event, EventsRetracted) for entry in entries):
        return _BEGINNING
    return min(sort_key(entry.event) for entry in entries)


_BEGINNING = (datetime.min.replace(tzinfo=UTC), "")


def _broken(key: UserKey, error: Exception) -> str:
    """Log a user whose snapshot could not be computed; the reason their events carry on."""
    reason = f"snapshot of the user could not be computed: {type(error).__name__}: {error}"
    log.error("user_projection_failed", tenant=key[0], error=reason[:500])
    return reason[:500]


def _key(event: RecordedEvent) -> UserKey:
    return (event.tenant_id, event.user_id)
