"""Replaying a user's log into a snapshot: from the newest usable checkpoint, not the start.

A late event (one that sorts before what a snapshot already applied) cannot be folded on
top; the user's snapshot is recomputed instead. With checkpoints the cost is the events
after the checkpoint, not the whole log: a late event first forgets the checkpoints it sorts
before, so every checkpoint left is followed in the log only by events that sort after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.domain import LateEvent, Snapshot, apply, reduce
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.ports import EventLog, SnapshotCheckpoints
from shared.service_layer.replay_memory import LogStretch, ReplayMemory
from shared.service_layer.stored_snapshots import StoredSnapshot
from shared.service_layer.user_keys import UserKey

__all__ = ["CHECKPOINTS_KEPT", "CHECKPOINT_EVERY", "Replay", "Replayer"]

CHECKPOINT_EVERY = 1000
"""A user's snapshot is kept as a checkpoint each time their log passes a multiple of this."""

CHECKPOINTS_KEPT = 3
"""Checkpoints kept per user (the newest ones)."""

SortKey = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class Replay:
    """What to recompute for one user: their log up to `top`, late from `late` (or None)."""

    top: int
    late: SortKey | None = None


class Replayer:
    """Recomputes snapshots from checkpoints and the log entries after them."""

    def __init__(
        self,
        events: EventLog,
        checkpoints: SnapshotCheckpoints | None,
        memory: ReplayMemory | None = None,
    ) -> None:
        self._log = events
        self._checkpoints = checkpoints
        self._memory = memory

    async def replay(self, wanted: Mapping[UserKey, Replay]) -> dict[UserKey, Snapshot]:
        """Each user's snapshot of their log up to `top`.

        Raises whatever a user's fold raises (the caller isolates users); see `replay_one`.
        """
        bases: dict[UserKey, StoredSnapshot] = {}
        if self._checkpoints is not None:
            for key, job in wanted.items():
                if job.late is not None:
                    await self._checkpoints.invalidate(key, job.late)
            bases = await self._checkpoints.latest(
                {key: (job.top, job.late) for key, job in wanted.items()}
            )
        histories = await self._read({key: bases[key].seq if key in bases else 0 for key in wanted})
        snapshots: dict[UserKey, Snapshot] = {}
        for key, job in wanted.items():
            events = [e.event for e in histories.get(key, ()) if e.seq <= job.top]
            base = bases.get(key)
            if base is None:
                snapshots[key] = reduce(events, tenant_id=key[0], user_id=key[1])
                continue
            try:
                snapshots[key] = apply(base.snapshot, events)
            except LateEvent:  # a checkpoint a concurrent writer outdated: start over
                whole = (await self._read({key: 0})).get(key, [])
                history = [e.event for e in whole if e.seq <= job.top]
                snapshots[key] = reduce(history, tenant_id=key[0], user_id=key[1])
        return snapshots

    async def _read(self, positions: Mapping[UserKey, int]) -> dict[UserKey, list[LogEntry]]:
        """Each user's entries above the given position, from memory where it holds them.

        A remembered stretch is used only if the log still holds its last entry, read in
        the same query as what came after it; otherwise it is dropped and the log read.
        What was read is remembered up to the log's visible head.
        """
        memory = self._memory
        if memory is None:
            return await self._log.after(positions)
        held: dict[UserKey, LogStretch] = {}
        for key, seq in positions.items():
            if (stretch := memory.covering(key, seq)) is not None:
                held[key] = stretch
        found = await self._log.after(
            {key: held[key].last.seq - 1 if key in held else seq for key, seq in positions.items()}
        )
        entries: dict[UserKey, list[LogEntry]] = {}
        for key, seq in positions.items():
            fresh, start = found.get(key, []), seq
            stretch = held.get(key)
            if stretch is not None and _continues(stretch, fresh):
                fresh, start = [*stretch.entries, *fresh[1:]], stretch.start
            elif stretch is not None:
                memory.forget([key])
                fresh = (await self._log.after({key: seq})).get(key, [])
            if fresh:
                head = await self._log.visible_head(key, fresh[-1].seq)
                memory.keep(key, start, fresh, head)
            entries[key] = [entry for entry in fresh if entry.seq > seq]
        return {key: found for key, found in entries.items() if found}

    def forget(self, keys: Iterable[UserKey]) -> None:
        """Drop what memory holds of these users' logs (they were erased)."""
        if self._memory is not None:
            self._memory.forget(keys)

    def stored_at(self, positions: Iterable[tuple[UserKey, int]]) -> None:
        """Tell memory where users' stored snapshots stand (see `ReplayMemory.forget_above`)."""
        if self._memory is not None:
            self._memory.forget_above(positions)

    async def keep(self, key: UserKey, before: int, stored: StoredSnapshot) -> None:
        """Keep a checkpoint when the user's log passed a multiple of `CHECKPOINT_EVERY`."""
        if (
            self._checkpoints is None
            or before // CHECKPOINT_EVERY == stored.seq // CHECKPOINT_EVERY
        ):
            return
        await self._checkpoints.save(key, stored, CHECKPOINTS_KEPT)


def _continues(stretch: LogStretch, fresh: list[LogEntry]) -> bool:
    """Whether the log read from the stretch's last position on still starts with that entry."""
    return bool(fresh) and (fresh[0].seq, fresh[0].event.event_id) == (
        stretch.last.seq,
        stretch.last.event.event_id,
    )
