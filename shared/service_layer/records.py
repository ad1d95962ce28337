"""The values that use cases and ports exchange: log entries, snapshots, deliveries, letters."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from shared.domain import RecordedEvent, Snapshot
from shared.service_layer.message_headers import (
    HEADER_DUE_AT,
    HEADER_ERROR_HISTORY,
    HEADER_ORIGINAL_OFFSET,
    HEADER_ORIGINAL_PARTITION,
    HEADER_ORIGINAL_TOPIC,
    HEADER_REQUEST_ID,
)

__all__ = [
    "PENDING",
    "REPLAYED",
    "AppendResult",
    "Attempt",
    "ConsumedRecord",
    "DeadLetter",
    "Delivery",
    "LetterFilter",
    "LetterState",
    "LogEntry",
    "SnapshotUpdate",
    "StoredLetter",
    "StoredSnapshot",
    "TopicMessage",
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
    """A snapshot and the highest log `seq` it has applied (every lower entry is applied).

    `unreadable` says why a stored snapshot could not be read back (its `snapshot` is then
    empty): the projection and `rebuild` recompute it from the log; a read reports it.
    """

    snapshot: Snapshot
    seq: int
    unreadable: str | None = None
    size: int | None = None
    """The stored encoding's length, when the store knows it (for the size quota)."""
    version: int = 0
    """How many times the stored snapshot was written: a write names the one it replaces."""


@dataclass(frozen=True)
class SnapshotUpdate:
    """Write `snapshot` at `seq`, but only if the stored one is still the one read.

    That is: still at `expected_seq` and `expected_version` (0 and 0: no snapshot yet). The
    version tells apart two writes at one seq (a rebuild, a projector), so a writer holding
    an older copy can never write over a newer one.
    """

    key: UserKey
    snapshot: Snapshot
    seq: int
    expected_seq: int
    expected_version: int = 0

    @cached_property
    def encoded(self) -> str:
        """The snapshot as stored (computed once, whoever asks first)."""
        return self.snapshot.to_storage()


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """One message as a consumer received it, independent of the Kafka client."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def request_id(self) -> str | None:
        """The `request-id` the gateway put on the message, if any."""
        return self.headers.get(HEADER_REQUEST_ID) or None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed delivery attempt: its number, the error and when it happened."""

    attempt: int
    error: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as carried in headers and stored in dead letters."""
        return {"attempt": self.attempt, "error": self.error, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Attempt:
        """Read what `to_dict` wrote."""
        return cls(int(item["attempt"]), str(item["error"]), datetime.fromisoformat(item["at"]))


@dataclass(slots=True)
class Delivery:
    """A consumed message with where it first came from and the attempts it has had."""

    raw: bytes
    key: bytes | None
    topic: str
    partition: int
    offset: int
    request_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    due_at: datetime | None = None

    @classmethod
    def from_record(cls, record: ConsumedRecord) -> Delivery:
        """Read a record's coordinates and, on a retry tier, its history from the headers."""
        headers = record.headers
        history = json.loads(headers.get(HEADER_ERROR_HISTORY, "[]"))
        due = headers.get(HEADER_DUE_AT)
        return cls(
            raw=record.value,
            key=record.key,
            topic=headers.get(HEADER_ORIGINAL_TOPIC, record.topic),
            partition=int(headers.get(HEADER_ORIGINAL_PARTITION, record.partition)),
            offset=int(headers.get(HEADER_ORIGINAL_OFFSET, record.offset)),
            request_id=record.request_id,
            attempts=[Attempt.from_dict(item) for item in history],
            due_at=datetime.fromisoformat(due) if due else None,
        )


LetterState = Literal["pending", "replayed"]
PENDING: LetterState = "pending"
REPLAYED: LetterState = "replayed"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event (or the raw bytes of an undecodable message) that will not be retried."""

    reason: str
    raw: bytes
    key: bytes | None
    attempts: list[Attempt]
    original_topic: str
    original_partition: int
    original_offset: int
    request_id: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None

    @property
    def letter_id(self) -> str:
        """Derived from the original coordinates and bytes: one message, one letter."""
        fingerprint = hashlib.sha256(
            f"{self.original_topic}/{self.original_partition}/{self.original_offset}/".encode()
            + self.raw
        )
        return fingerprint.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class StoredLetter:
    """A dead letter as stored, with its id, state and replay history."""

    letter_id: str
    letter: DeadLetter
    failed_at: datetime
    state: LetterState
    replays: int
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LetterFilter:
    """Which letters to select; every field left `None` selects all."""

    tenant_id: str | None = None
    since: datetime | None = None
    event_type: str | None = None
    state: LetterState | None = None


@dataclass(frozen=True, slots=True)
class TopicMessage:
    """A message as it sits on a topic: what parking keeps and re-publishing puts back."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def message_id(self) -> str:
        """Derived from everything the message carries, so parking it twice stores it once."""
        digest = hashlib.sha256()
        key = b"\x00" if self.key is None else b"\x01" + self.key
        parts = [self.topic.encode(), key, self.value]
        parts += [name.encode() + b"\x00" + value for name, value in self.headers]
        for part in parts:
            digest.update(len(part).to_bytes(8, "big") + part)
        return digest.hexdigest()[:32]

    @property
    def owner(self) -> UserKey | None:
        """The (tenant, user) of the key `tenantId/userId`, or None for any other key."""
        tenant, separator, user = (self.key or b"").decode(errors="replace").partition("/")
        return (tenant, user) if separator and tenant and user else None
