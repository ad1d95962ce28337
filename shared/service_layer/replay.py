"""Replaying a user's log into a snapshot: from the newest usable checkpoint, not the start.

A late event (one that sorts before what a snapshot already applied) cannot be folded on
top; the user's snapshot is recomputed instead. With checkpoints the cost is the events
after the checkpoint, not the whole log: a late event first forgets the checkpoints it sorts
before, so every checkpoint left is followed in the log only by events that sort after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.domain import LateEvent, Snapshot, apply, reduce
from shared.service_layer.ports import EventLog, SnapshotCheckpoints
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

    def __init__(self, events: EventLog, checkpoints: SnapshotCheckpoints | None) -> None:
        self._log = events
        self._checkpoints = checkpoints

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
        histories = await self._log.after(
            {key: bases[key].seq if key in bases else 0 for key in wanted}
        )
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
                whole = (await self._log.after({key: 0})).get(key, [])
                history = [e.event for e in whole if e.seq <= job.top]
                snapshots[key] = reduce(history, tenant_id=key[0], user_id=key[1])
        return snapshots

    async def keep(self, key: UserKey, before: int, stored: StoredSnapshot) -> None:
        """Keep a checkpoint when the user's log passed a multiple of `CHECKPOINT_EVERY`."""
        if (
            self._checkpoints is None
            or before // CHECKPOINT_EVERY == stored.seq // CHECKPOINT_EVERY
        ):
            return
        await self._checkpoints.save(key, stored, CHECKPOINTS_KEPT)
