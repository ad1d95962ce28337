"""Reading a user's progress: the snapshot and, after a cursor, the log entries it reflects."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain import Snapshot, reduce
from shared.service_layer.errors import SnapshotUnreadable
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.ports import EventLog, SnapshotStore
from shared.service_layer.user_keys import UserKey

__all__ = ["ProgressPage", "ProgressReader"]


@dataclass(frozen=True, slots=True)
class ProgressPage:
    """A snapshot, the entries after the asked cursor, and where to continue.

    Only entries at or below the log's visible head (and the snapshot's applied seq) are
    served, so the snapshot and the events always agree and a cursor never skips: an event
    still being projected, or above a position still empty, shows up in both at once, later.
    """

    snapshot: Snapshot
    entries: list[LogEntry] = field(default_factory=list)
    cursor: int = 0
    has_more: bool = False


class ProgressReader:
    """Serves snapshots and log pages."""

    def __init__(self, events: EventLog, snapshots: SnapshotStore) -> None:
        self._events = events
        self._snapshots = snapshots

    async def snapshot(self, key: UserKey) -> tuple[Snapshot, int]:
        """The user's snapshot as of the log's visible head, and that head.

        An empty snapshot at 0 for a new user. The stored snapshot when its applied seq is
        the head (nearly always); else (its seq is above the head, or it cannot be read) the
        log reduced up to the head, so a cursor never passes a position still empty.

        Raises:
            SnapshotUnreadable: If the log cannot be reduced either.
        """
        stored = (await self._snapshots.load_many([key])).get(key)
        if stored is None:
            return Snapshot.empty(*key), 0
        head = await self._events.visible_head(key, stored.seq)
        if stored.unreadable is None and head == stored.seq:
            return stored.snapshot, head
        history = (await self._events.after({key: 0})).get(key, [])
        try:
            snapshot = reduce(
                (e.event for e in history if e.seq <= head), tenant_id=key[0], user_id=key[1]
            )
        except Exception as error:  # whatever this user's data does, it stays their problem
            raise SnapshotUnreadable(f"{stored.unreadable}; the log: {error}") from error
        return snapshot, head

    async def page(self, key: UserKey, since: int | None, limit: int) -> ProgressPage:
        """The snapshot and, with `since`, at most `limit` entries stored after that cursor.

        Without `since` the page holds no entries and its cursor is the snapshot's position.
        """
        snapshot, head = await self.snapshot(key)
        if since is None:
            return ProgressPage(snapshot, cursor=head)
        entries = await self._events.page(key, min(since, head), head, limit + 1)
        has_more = len(entries) > limit
        entries = entries[:limit]
        cursor = entries[-1].seq if has_more else head
        return ProgressPage(snapshot, entries, cursor, has_more)
