"""What the projection needs from storage: an event log and a snapshot store.

Each port has the MongoDB adapter in `shared.adapters` and an in-memory fake in the tests;
the same contract tests run against both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.domain import RecordedEvent, Snapshot

__all__ = [
    "AppendResult",
    "EventLog",
    "LogEntry",
    "SnapshotStore",
    "SnapshotUpdate",
    "StoredSnapshot",
    "UserKey",
]

UserKey = tuple[str, str]
"""(tenantId, userId): the unit of ordering, storage and reduction."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored event and its place `seq` in its user's log (the cursor order)."""

    seq: int
    event: RecordedEvent


@dataclass(slots=True)
class AppendResult:
    """What an append did with each entry it was given.

    `inserted` are now in the log; `duplicates` were there already under the same eventId
    (stored first, so they win); `collisions` lost their `seq` to a concurrent writer and must
    be appended again with a fresh one; `rejected` were refused by the store, with the reason.
    """

    inserted: list[LogEntry] = field(default_factory=list)
    duplicates: list[LogEntry] = field(default_factory=list)
    collisions: list[LogEntry] = field(default_factory=list)
    rejected: list[tuple[LogEntry, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot and the highest log `seq` it has applied (every lower entry is applied)."""

    snapshot: Snapshot
    seq: int


@dataclass(frozen=True, slots=True)
class SnapshotUpdate:
    """Write `snapshot` at `seq`, but only if the stored one is still at `expected_seq`."""

    key: UserKey
    snapshot: Snapshot
    seq: int
    expected_seq: int


class EventLog(Protocol):
    """The append-only log: one entry per (tenant, user, eventId), ordered per user by seq."""

    async def append(self, entries: Sequence[LogEntry]) -> AppendResult:
        """Store each entry unless its eventId is already stored; never overwrites."""
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


class SnapshotStore(Protocol):
    """One snapshot per user, written with optimistic concurrency on its seq."""

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        """The stored snapshots of these users; users without one are left out."""
        ...

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        """Write each update whose expectation holds; return the users whose did not."""
        ...
