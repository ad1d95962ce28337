"""The event log, the snapshots and their checkpoints, and the clock."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from shared.domain import (
    QuotaUsage,
    Snapshot,
)
from shared.service_layer.log_entries import AppendResult, LogEntry
from shared.service_layer.stored_snapshots import SnapshotUpdate, StoredSnapshot
from shared.service_layer.user_keys import UserKey

__all__ = [
    "Clock",
    "EventLog",
    "SnapshotCheckpoints",
    "SnapshotStore",
]


class Clock(Protocol):
    """The time now (timezone-aware); a fake clock makes use cases deterministic."""

    def now(self) -> datetime:
        """The current time in UTC."""
        ...


class EventLog(Protocol):
    """The append-only log: one entry per (tenant, user, eventId), ordered per user by seq."""

    async def append(self, entries: Sequence[LogEntry]) -> AppendResult:
        """Store each entry unless its eventId is already stored; never overwrites."""
        ...

    async def fill(self, positions: Mapping[UserKey, Sequence[int]]) -> int:
        """Put a filler at each of these positions (left unused by their writer).

        A filler is never served, counted or folded; it only lets the visible head pass its
        position. A position already taken keeps what holds it. Returns how many were written.
        """
        ...

    async def visible_head(self, key: UserKey, upto: int) -> int:
        """The highest position at most `upto` with every lower one stored.

        The position up to which a cursor may be handed out: nothing can land below it any
        more. Fills the holes it finds that are older than the store's hole bound.
        """
        ...

    async def find_many(
        self, event_ids: Mapping[UserKey, Sequence[str]]
    ) -> dict[UserKey, dict[str, LogEntry]]:
        """The stored entries for these eventIds, per user (absent ids and users left out)."""
        ...

    async def after(self, positions: Mapping[UserKey, int]) -> dict[UserKey, list[LogEntry]]:
        """For each user, the entries with seq above the given one, in seq order."""
        ...

    async def page(self, key: UserKey, after_seq: int, upto_seq: int, limit: int) -> list[LogEntry]:
        """At most `limit` entries with `after_seq < seq <= upto_seq`, in seq order."""
        ...

    async def count(self, key: UserKey, after_seq: int, upto_seq: int) -> int:
        """How many entries of the user have `after_seq < seq <= upto_seq`."""
        ...

    async def of_users(self, tenant: str, users: Sequence[str]) -> dict[UserKey, list[LogEntry]]:
        """The whole logs of these users of one tenant, each in seq order."""
        ...

    async def users(self, tenant: str | None, user: str | None) -> list[UserKey]:
        """Every user with at least one entry (of one tenant, or one user of it), sorted."""
        ...


class SnapshotStore(Protocol):
    """One snapshot per user, written with optimistic concurrency on its seq."""

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        """The stored snapshots of these users; users without one are left out."""
        ...

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        """Write each update whose expectation holds; return the users whose did not."""
        ...

    async def count_of(self, tenant: str) -> int:
        """How many users of the tenant have a snapshot."""
        ...

    def walk(self, tenant: str, after: str | None, page: int) -> AsyncGenerator[list[Snapshot]]:
        """The tenant's snapshots by userId, after `after` (None: from the first), in pages."""
        ...

    async def positions(self, keys: Sequence[UserKey]) -> dict[UserKey, int]:
        """The applied seq of each user's snapshot (0 for users without one), cheaply."""
        ...

    async def usage(self, keys: Sequence[UserKey]) -> dict[UserKey, QuotaUsage]:
        """How much of the quotas each stored snapshot uses, without reading it.

        Users without a snapshot use nothing; a snapshot whose usage is unknown (written by
        an older version) is left out, so the caller reads it.
        """
        ...


class SnapshotCheckpoints(Protocol):
    """Snapshots kept at points of a user's log, so a late event replays only what follows.

    Invariant the caller keeps: every log entry above a checkpoint's seq sorts after the
    checkpoint's last applied event (a late event first invalidates the checkpoints it
    sorts before).
    """

    async def latest(
        self, bounds: Mapping[UserKey, tuple[int, tuple[datetime, str] | None]]
    ) -> dict[UserKey, StoredSnapshot]:
        """Per user, the newest usable checkpoint; users without one are left out.

        Usable: at or below the given seq, and its last event sorts before the given key
        (None: any key).
        """
        ...

    async def invalidate(self, key: UserKey, since: tuple[datetime, str]) -> None:
        """Forget the user's checkpoints whose last applied event sorts at or after `since`."""
        ...

    async def save(self, key: UserKey, stored: StoredSnapshot, keep: int) -> None:
        """Keep the snapshot at its seq; keep only the user's `keep` newest checkpoints."""
        ...
