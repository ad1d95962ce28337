"""What the use cases need from the outside world, as Protocols.

Each port has one real adapter in `shared.adapters` and one in-memory fake in `tests.fakes`;
the same contract tests run against both. Every method may raise `StoreUnavailable` (or, for
the broker, `BrokerUnavailable`) on an outage and `StoreRejected` when the store refuses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from shared.domain import (
    CatalogTotals,
    Certificate,
    Course,
    QuotaUsage,
    RecordedEvent,
    Snapshot,
)
from shared.service_layer.records import (
    AppendResult,
    Attempt,
    DeadLetter,
    Delivery,
    LetterFilter,
    LogEntry,
    SnapshotUpdate,
    StoredLetter,
    StoredSnapshot,
    TopicMessage,
    UserKey,
)

__all__ = [
    "CatalogStore",
    "CertificateStore",
    "Clock",
    "DeadLetterStore",
    "EventLog",
    "EventPublisher",
    "MergePointers",
    "MessageRepublisher",
    "ParkedMessages",
    "RebuildCheckpoints",
    "RetryRoutes",
    "SnapshotCheckpoints",
    "SnapshotStore",
    "TombstoneStore",
    "TopicBacklog",
    "UserDataStore",
    "WrittenEvents",
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

    def claiming(self, tenant: str, course_id: str) -> AsyncIterator[Snapshot]:
        """Every snapshot of the tenant with a `course.completed` claim on the course."""
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


class EventPublisher(Protocol):
    """Hands accepted events to the broker."""

    async def publish(self, events: Sequence[RecordedEvent], request_id: str) -> None:
        """Return once the broker acknowledged every event; else `BrokerUnavailable`.

        Some events may have been stored even then: resending is safe (idempotent by id).
        """
        ...


class RetryRoutes(Protocol):
    """Where failed messages wait: a retry tier, or the dead-letter topic."""

    async def to_tier(
        self, tier: int, delivery: Delivery, attempts: Sequence[Attempt], due_at: datetime
    ) -> None:
        """Put the message on retry tier `tier` (0-based), due at `due_at`; acknowledged."""
        ...

    async def to_dead_letter_topic(
        self, delivery: Delivery, reason: str, attempts: Sequence[Attempt]
    ) -> None:
        """Copy the message onto the dead-letter topic with its reason; acknowledged."""
        ...


class MessageRepublisher(Protocol):
    """Puts a message back onto the events topic (a replayed dead letter)."""

    async def republish(self, raw: bytes, key: bytes | None, request_id: str | None) -> None:
        """Publish and wait for the broker's acknowledgement."""
        ...


class DeadLetterStore(Protocol):
    """Dead letters for operators to list, explain, replay and purge."""

    async def add(self, letter: DeadLetter) -> str:
        """Store as pending and return its id; storing the same message again is a no-op."""
        ...

    async def count(self, selection: LetterFilter | None = None) -> int:
        """How many letters match (all without a filter)."""
        ...

    async def find(self, selection: LetterFilter, limit: int = 0) -> list[StoredLetter]:
        """The matching letters, newest first (`limit` 0: all)."""
        ...

    async def get(self, letter_id: str) -> StoredLetter | None:
        """One letter, or None."""
        ...

    async def mark_replayed(self, letter_id: str) -> bool:
        """Record a replay (state, time, count); False if the letter is gone."""
        ...

    async def delete(self, letter_ids: Sequence[str]) -> int:
        """Delete these letters; return how many existed."""
        ...

    async def delete_matching(self, selection: LetterFilter) -> int:
        """Delete every matching letter; return how many there were."""
        ...


class CatalogStore(Protocol):
    """Course definitions per tenant; a course is replaced whole."""

    async def get(self, tenant_id: str, course_id: str) -> Course | None:
        """The course, or None."""
        ...

    async def page(self, tenant_id: str, after: str | None, limit: int) -> list[Course]:
        """At most `limit` courses ordered by courseId, after `after` (None: from the first)."""
        ...

    async def touching(
        self, tenant_id: str, content_ids: Sequence[str], course_ids: Sequence[str]
    ) -> list[Course]:
        """The courses listing one of `content_ids` or being one of `course_ids`."""
        ...

    async def totals(self, tenant_id: str) -> CatalogTotals:
        """How many courses the tenant has, and their required items summed."""
        ...

    async def put(self, tenant_id: str, course: Course) -> bool:
        """Store the course, replacing one with the same courseId; True if it is new."""
        ...

    async def delete(self, tenant_id: str, course_id: str) -> bool:
        """Remove the course; False if there was none."""
        ...


class CertificateStore(Protocol):
    """Earned certificates; each is written once and never changed."""

    async def of_user(self, tenant_id: str, user_id: str) -> dict[str, Certificate]:
        """The user's certificates by courseId."""
        ...

    async def record(self, certificates: Sequence[Certificate]) -> int:
        """Record those not recorded yet (first write wins); return how many were new."""
        ...


class UserDataStore(Protocol):
    """Everything stored about a user, for erasure."""

    async def erase(self, tenant_id: str, user_id: str) -> dict[str, int]:
        """Delete the user's documents everywhere; return how many each collection lost."""
        ...

    async def audit(self, action: str, tenant_id: str, counts: Mapping[str, int]) -> None:
        """Record an audit entry (never with a user id)."""
        ...


class TombstoneStore(Protocol):
    """Which users were erased, remembered by a keyed hash of their id only."""

    async def erased(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """The users among `keys` that were erased (and not re-enabled)."""
        ...

    async def bury(self, tenant_id: str, user_id: str) -> None:
        """Remember that the user was erased; idempotent."""
        ...

    async def exhume(self, tenant_id: str, user_id: str) -> bool:
        """Forget the erasure, so the id may be used again; False if it was not erased."""
        ...


class WrittenEvents(Protocol):
    """The eventIds of writes too large to name in a consistency token, for a while."""

    async def put(self, reference: str, key: UserKey, event_ids: Sequence[str]) -> None:
        """Keep the write's eventIds under `reference`."""
        ...

    async def get(self, reference: str) -> tuple[UserKey, list[str]] | None:
        """The write's user and eventIds, or None (unknown or expired)."""
        ...


class MergePointers(Protocol):
    """Where merged guests went: guest → account, per tenant."""

    async def point(self, tenant_id: str, guest_id: str, account_id: str) -> None:
        """Record that the guest was merged into the account (the latest merge wins)."""
        ...

    async def target(self, tenant_id: str, guest_id: str) -> str | None:
        """The account the guest was merged into, or None."""
        ...


class RebuildCheckpoints(Protocol):
    """Progress of resumable rebuild runs, one per scope."""

    async def last_done(self, run_id: str) -> UserKey | None:
        """The last user an unfinished run completed, or None (no run, or it finished)."""
        ...

    async def save(
        self, run_id: str, last: UserKey | None, *, done: bool, started: datetime
    ) -> None:
        """Record a run's progress."""
        ...


class TopicBacklog(Protocol):
    """Raw access to topics: what a consumer group has not consumed yet, and publishing back."""

    async def unconsumed(self, topic: str, group: str) -> list[TopicMessage]:
        """The messages after `group`'s committed offsets (all, where it has none), in order."""
        ...

    async def publish(self, messages: Sequence[TopicMessage]) -> None:
        """Publish each onto its topic with its key and headers; return once all are acked."""
        ...


class ParkedMessages(Protocol):
    """Messages kept outside the broker while it is down, in the order they were parked."""

    async def park(self, messages: Sequence[TopicMessage]) -> int:
        """Keep those not kept yet (same `message_id`: kept once); return how many were new."""
        ...

    async def all(self) -> list[TopicMessage]:
        """Every parked message, oldest first (and in the given order within one `park`)."""
        ...

    async def remove(self, message_ids: Sequence[str]) -> int:
        """Forget these messages; return how many were parked."""
        ...
