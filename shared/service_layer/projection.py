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
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import structlog

from shared.domain import (
    EventsRetracted,
    LateEvent,
    Quotas,
    RecordedEvent,
    admit,
    apply,
    dedupe,
    sort_key,
)
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.erasure import Erasure
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.foretell import foretell
from shared.service_layer.log_entries import AppendResult, LogEntry
from shared.service_layer.ports import (
    ChangeAnnouncer,
    EventLog,
    SnapshotCheckpoints,
    SnapshotStore,
)
from shared.service_layer.projection_report import ConcurrentWriters, ProjectionReport
from shared.service_layer.replay import Replay, Replayer
from shared.service_layer.replay_memory import ReplayMemory
from shared.service_layer.stored_snapshots import StoredSnapshot
from shared.service_layer.user_keys import UserKey
from shared.service_layer.user_round import UserRound

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
        replay_memory: int = 0,
    ) -> None:
        """`replay_memory`: how many log entries of lately replayed users to keep (0: none)."""
        self._log = events
        self._changes = changes
        self._snapshots = snapshots
        self._erasure = erasure
        self._quotas = quotas
        memory = ReplayMemory(replay_memory) if replay_memory > 0 else None
        self._replayer = Replayer(events, checkpoints, memory)

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
            erased = await self._erasure.sweep(list(pending))
            self._replayer.forget(erased)
            for key in erased:
                report.erased += len(pending.pop(key))
        touched = list(pending)
        rebuild: set[UserKey] = set()
        for number in range(_MAX_ROUNDS):
            if not pending:
                break
            pending, rebuild = await self._round(pending, rebuild, report, number == 0)
        if pending:
            raise ConcurrentWriters(
                f"{len(pending)} users still contended after {_MAX_ROUNDS} rounds"
            )
        buried: set[UserKey] = set()
        if self._erasure is not None:
            buried = await self._erasure.sweep(touched)
            self._replayer.forget(buried)
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

        Phases over every user at once (`UserRound` holds what each learns): load the stored
        snapshots, append (the fold of the common case overlapping the insert), reconcile
        what the log did with what this writer sent, advance each snapshot, save them all.
        Returns the events to append again, and the users whose snapshot write lost to
        another writer (rebuilt from the log next round).
        """
        users = await self._load(pending, rebuild, report, first)
        appended = await self._append(users.values())
        retry = await self._reconcile(users, appended, report)
        await self._advance(users, report)
        stale = await self._save(users.values(), report)
        for key in stale:
            retry.setdefault(key, [])
        return retry, stale

    async def _load(
        self,
        pending: dict[UserKey, list[RecordedEvent]],
        rebuild: set[UserKey],
        report: ProjectionReport,
        first: bool,
    ) -> dict[UserKey, UserRound]:
        """Each user's stored snapshot and the events to append above it (quotas, first time).

        A stored snapshot that cannot be read back is rebuilt from the log.
        """
        stored = await self._snapshots.load_many(list(pending))
        self._replayer.stored_at((key, snapshot.seq) for key, snapshot in stored.items())
        users = {
            key: UserRound(
                key,
                user_events,
                stored.get(key),
                key in rebuild or (key in stored and stored[key].unreadable is not None),
            )
            for key, user_events in pending.items()
        }
        if first and self._quotas is not None:
            self._within_quotas(users.values(), self._quotas, report)
        return users

    async def _append(self, users: Collection[UserRound]) -> AppendResult:
        """Insert each user's events above its snapshot's seq, folding while the insert runs.

        The one overlap of the database's work and the projector's: the insert goes out,
        `foretell` folds and encodes each user's snapshot write as it will be if the log
        takes every event, then the insert is awaited.
        """
        appending = asyncio.ensure_future(
            self._log.append(
                [
                    LogEntry(user.position + index, event)
                    for user in users
                    for index, event in enumerate(user.events, start=1)
                ]
            )
        )
        try:
            await asyncio.sleep(0)  # the insert goes out, then the fold runs while it is stored
            foretell(users)
            return await appending
        except BaseException:
            appending.cancel()
            raise

    async def _reconcile(
        self, users: dict[UserKey, UserRound], appended: AppendResult, report: ProjectionReport
    ) -> dict[UserKey, list[RecordedEvent]]:
        """Each user's log entries to apply and the seq they reach; the events to append again.

        Refused entries are reported and positions left unused are filled. The log is only
        read for users whose append met entries this writer did not put there (a seq
        collision, or a duplicate stored above the snapshot's seq: a crash or a concurrent
        writer left them), so a quiet user costs no read of the log.
        """
        report.refused.extend((entry.event, reason) for entry, reason in appended.rejected)
        await self._fill_unused(appended)
        retry: dict[UserKey, list[RecordedEvent]] = {}
        for entry in appended.collisions:
            retry.setdefault(_key(entry.event), []).append(entry.event)
        unseen = set(retry) | await self._sort_out_duplicates(appended.duplicates, users, report)
        unapplied = await self._log.after({key: users[key].position for key in unseen})
        for entry in appended.inserted:
            users[_key(entry.event)].entries.append(entry)
        for key in unseen:
            users[key].unseen = True
            users[key].entries = unapplied.get(key, [])
        for user in users.values():
            if user.entries:
                user.top = max(entry.seq for entry in user.entries)
            elif user.rebuild:
                user.top = user.position
        return retry

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
        users: Collection[UserRound], quotas: Quotas, report: ProjectionReport
    ) -> None:
        """Keep the events that fit their user's quotas; the others are reported, never stored."""
        for user in users:
            size = user.stored.size if user.stored is not None else None
            user.events, refused = admit(user.base, user.events, quotas, size)
            report.over_quota.extend(refused)

    async def _advance(self, users: dict[UserKey, UserRound], report: ProjectionReport) -> None:
        """Each user's snapshot with its log applied up to its top, or why it broke.

        A ready user's foretold snapshot stands. Others fold their new entries on where they
        sort after the snapshot; otherwise (a late event, a user whose last write lost to a
        concurrent writer, or whose stored snapshot cannot be read) the user's log is reduced
        up to that seq again. A user whose fold raises is left out with the reason, so one
        user's poison never holds up the others: their events go to the retry tiers.
        """
        replay: dict[UserKey, Replay] = {}
        for user in users.values():
            if user.top is None:
                continue
            if user.ready and user.foretold is not None:
                user.snapshot = user.foretold.snapshot
            elif user.rebuild:
                replay[user.key] = Replay(user.top)
            else:
                try:
                    user.snapshot = apply(user.base, [entry.event for entry in user.entries])
                except LateEvent:
                    replay[user.key] = Replay(user.top, _replay_from(user.entries))
                except Exception as error:  # per-user isolation: any fault of this user's data
                    user.broken = _broken(user.key, error)
        if replay:
            await self._replay(users, replay, report)
        for user in users.values():
            if user.broken is not None:
                report.failed.extend((event, user.broken) for event in user.events)

    async def _replay(
        self,
        users: dict[UserKey, UserRound],
        replay: dict[UserKey, Replay],
        report: ProjectionReport,
    ) -> None:
        """Reduce each user's log again up to its top (from a checkpoint where one is kept)."""
        started = time.perf_counter()
        for key, job in replay.items():
            try:
                users[key].snapshot = (await self._replayer.replay({key: job}))[key]
            except StoreUnavailable:  # an outage, not this user's fault: the batch rewinds
                raise
            except Exception as error:  # per-user isolation, as above
                users[key].broken = _broken(key, error)
                continue
            log.info("snapshot_replayed", tenant=key[0], late=job.late is not None)
        share = (time.perf_counter() - started) / len(replay)
        report.replays.extend(share for _ in replay)

    async def _save(self, users: Collection[UserRound], report: ProjectionReport) -> set[UserKey]:
        """Write every advanced snapshot at once; return the users whose write lost (stale).

        The report's cursors say where each user's snapshot stands now: at its top when
        written, else where it was found.
        """
        saving = [user for user in users if user.saving]
        updates = [user.update() for user in saving]
        stale = await self._snapshots.save_many(updates)
        found = (user for user in users if user.stored is not None)
        report.cursors.update((user.key, user.position) for user in found)
        for user, update in zip(saving, updates, strict=True):
            report.applied.extend(entry.event for entry in user.entries)
            if user.key not in stale:
                report.cursors[user.key] = update.seq
                kept = StoredSnapshot(update.snapshot, update.seq)
                await self._replayer.keep(user.key, user.position, kept)
        return stale

    async def _sort_out_duplicates(
        self,
        duplicates: list[LogEntry],
        users: dict[UserKey, UserRound],
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
            elif first is None or first.seq <= users[key].position:
                report.duplicates += 1
            if first is not None and first.seq > users[key].position:
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
