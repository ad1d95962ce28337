"""A user's log as use cases and the event-log port exchange it: entries and what an append did."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain import RecordedEvent

__all__ = ["AppendResult", "LogEntry"]


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
