"""The durable outbox: one SQLite file (WAL) that holds every event until the server answered.

Several processes may share one file. A sender *claims* rows by writing its name and a lease
expiry onto them in one `BEGIN IMMEDIATE` transaction, so no two live senders hold the same
row; a row leaves the outbox only once the server answered for it (`complete`). A sender that
dies keeps its lease until it expires, then another claims the rows and sends them again,
which the server's idempotence by eventId turns into a no-op. Each row carries its userId.
What became of the most recent `SETTLED_KEPT` events that left it (synced or rejected, and
why) stays in a second table, so that any process can answer `state()` for an event.

Learned from persist-queue's `SQLiteAckQueue` (a row stays until acked), which is not used:
its in-flight rows belong to no one, so after a crash `resume_unack_tasks()` must hand back
every in-flight row, those of live processes included, and it has no per-user batches.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .reports import DroppedEvent, DropReason, EventState

__all__ = ["SETTLED_KEPT", "Claim", "Entry", "Outbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    body TEXT NOT NULL,
    size INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    UNIQUE (user_id, event_id)
);
CREATE INDEX IF NOT EXISTS outbox_by_user ON outbox (user_id, seq);
CREATE TABLE IF NOT EXISTS settled (
    user_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    error TEXT,
    code TEXT,
    field TEXT,
    PRIMARY KEY (user_id, event_id)
);
"""

SETTLED_KEPT = 10_000
"""How many settled events the file remembers for `state()`; older ones are forgotten."""


_MAX_SEQ = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One queued event: its row, its user, and its JSON as it will be sent."""

    seq: int
    user_id: str
    event_id: str
    body: str


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows of one user that this sender leased, oldest first."""

    user_id: str
    entries: list[Entry]

    @property
    def seqs(self) -> list[int]:
        """The rows' ids."""
        return [entry.seq for entry in self.entries]


class Outbox:
    """A SQLite outbox file shared safely by threads and processes.

    Args:
        path: The file (created with its folder if missing).
        owner: This sender's name on its leases; unique per process unless given.
        lease_seconds: How long a claim stays this sender's; longer than one send may take.
        synchronous: `FULL` syncs each commit to disk (survives power loss); `NORMAL` syncs
            at checkpoints (survives a killed process, which is what a crash is).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        owner: str | None = None,
        lease_seconds: float = 60.0,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.owner = owner or f"{uuid.uuid4().hex[:12]}"
        self.lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def add(self, user_id: str, events: Iterable[tuple[str, str]]) -> int:
        """Queue `(eventId, json)` pairs of one user in one commit; returns how many were new.

        An event already queued under the same user and eventId is left as it is. Returns
        once the commit is on disk (or in the OS, with `synchronous="NORMAL"`).
        """
        rows = [(user_id, event_id, body, len(body.encode())) for event_id, body in events]
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO outbox (user_id, event_id, body, size) VALUES (?, ?, ?, ?)",
                rows,
            )
            return db.total_changes - before

    def claim(self, *, max_events: int, max_bytes: int, now: float | None = None) -> Claim | None:
        """Lease the oldest unleased rows of the user whose event waits longest.

        At most `max_events` rows whose bodies add up to at most `max_bytes` (at least one
        row). Returns None when no row is free (all sent, or leased by live senders).
        """
        moment = time.time() if now is None else now
        with self._transaction() as db:
            return self._claim_in(db, moment, max_events, max_bytes)

    def _claim_in(
        self, db: sqlite3.Connection, now: float, max_events: int, max_bytes: int
    ) -> Claim | None:
        first = db.execute(
            "SELECT user_id FROM outbox WHERE lease_until <= ? ORDER BY seq LIMIT 1", (now,)
        ).fetchone()
        if first is None:
            return None
        user_id: str = first[0]
        rows = db.execute(
            "SELECT seq, event_id, body, size FROM outbox"
            " WHERE user_id = ? AND lease_until <= ? ORDER BY seq LIMIT ?",
            (user_id, now, max_events),
        ).fetchall()
        entries: list[Entry] = []
        total = 0
        for seq, event_id, body, size in rows:
            if entries and total + size > max_bytes:
                break
            entries.append(Entry(seq, user_id, event_id, body))
            total += size
        db.executemany(
            "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE seq = ?",
            [(self.owner, now + self.lease_seconds, entry.seq) for entry in entries],
        )
        return Claim(user_id, entries)

    def complete(
        self, entries: Sequence[Entry], rejected: Mapping[str, DroppedEvent] | None = None
    ) -> None:
        """Remove rows the server answered for: stored, or (by eventId in `rejected`) refused."""
        refused = rejected or {}
        with self._transaction() as db:
            db.executemany("DELETE FROM outbox WHERE seq = ?", [(e.seq,) for e in entries])
            self._remember(
                db,
                [
                    _settled_row(entry.user_id, entry.event_id, refused.get(entry.event_id))
                    for entry in entries
                ],
            )

    def release(self, seqs: Sequence[int]) -> None:
        """Hand rows back unsent, so that any sender may claim them again at once."""
        self._write_many(
            "UPDATE outbox SET lease_owner = NULL, lease_until = 0"
            " WHERE seq = ? AND lease_owner = ?",
            [(seq, self.owner) for seq in seqs],
        )

    def drop_user(self, user_id: str, reason: DropReason | None = None) -> list[Entry]:
        """Remove and return every queued event of one user.

        With a `reason` (410: `erased`) they are remembered as rejected for `state()`;
        without (the app discarded them) they are forgotten.
        """
        with self._transaction() as db:
            rows = db.execute(
                "SELECT seq, event_id, body FROM outbox WHERE user_id = ? ORDER BY seq",
                (user_id,),
            ).fetchall()
            db.execute("DELETE FROM outbox WHERE user_id = ?", (user_id,))
            if reason is not None:
                self._remember(
                    db,
                    [
                        _settled_row(user_id, event_id, DroppedEvent(user_id, event_id, reason))
                        for _, event_id, _ in rows
                    ],
                )
        return [Entry(seq, user_id, event_id, body) for seq, event_id, body in rows]

    def state(self, user_id: str, event_id: str, *, now: float | None = None) -> EventState | None:
        """Where one event is: queued, being sent, or settled; None if unknown or forgotten."""
        moment = time.time() if now is None else now
        with self._lock:
            queued = self._db.execute(
                "SELECT lease_until FROM outbox WHERE user_id = ? AND event_id = ?",
                (user_id, event_id),
            ).fetchone()
            settled = self._db.execute(
                "SELECT state, reason, error, code, field FROM settled"
                " WHERE user_id = ? AND event_id = ?",
                (user_id, event_id),
            ).fetchone()
        if queued is not None:
            return EventState("sending" if queued[0] > moment else "pending")
        if settled is None:
            return None
        state, reason, error, code, field = settled
        return EventState(state, reason, error, code, field)

    @staticmethod
    def _remember(db: sqlite3.Connection, rows: list[tuple[str | None, ...]]) -> None:
        """Record settled events, forgetting all but the latest `SETTLED_KEPT`."""
        db.executemany("INSERT OR REPLACE INTO settled VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute(
            "DELETE FROM settled WHERE rowid <= (SELECT max(rowid) FROM settled) - ?",
            (SETTLED_KEPT,),
        )

    def pending(self, user_id: str | None = None, *, through: int | None = None) -> int:
        """How many events are queued in the file (by every process).

        Args:
            user_id: Count only this user's.
            through: Count only rows up to this `last_seq()` (those queued before it).
        """
        sql = "SELECT count(*) FROM outbox WHERE seq <= ?"
        args: list[object] = [_MAX_SEQ if through is None else through]
        if user_id is not None:
            sql, args = sql + " AND user_id = ?", [*args, user_id]
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return int(row[0])

    def last_seq(self) -> int:
        """The newest row's id (0 when empty); rows queued later have larger ids."""
        with self._lock:
            row = self._db.execute("SELECT max(seq) FROM outbox").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        """Close this process's connection; the file and its rows stay."""
        with self._lock:
            self._db.close()

    def _write_many(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        if not rows:
            return
        with self._transaction() as db:
            db.executemany(sql, rows)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction.

        `BEGIN IMMEDIATE` takes the file's write lock up front, so a claim's read and
        its lease update see no other sender in between.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


def _settled_row(
    user_id: str, event_id: str, dropped: DroppedEvent | None
) -> tuple[str | None, ...]:
    """A `settled` row: synced, or rejected as `dropped` says."""
    if dropped is None:
        return (user_id, event_id, "synced", None, None, None, None)
    return (
        user_id,
        event_id,
        "rejected",
        dropped.reason,
        dropped.error,
        dropped.code,
        dropped.field,
    )
