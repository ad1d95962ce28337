"""The broker, seen by the use cases: publishing, retry routes, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shared.domain import (
    RecordedEvent,
)
from shared.service_layer.dead_letter_records import DeadLetter, LetterFilter, StoredLetter
from shared.service_layer.deliveries import Attempt, Delivery
from shared.service_layer.topic_messages import TopicMessage
from shared.service_layer.user_keys import UserKey

__all__ = [
    "DeadLetterStore",
    "EventPublisher",
    "MessageRepublisher",
    "ParkedMessages",
    "RetryRoutes",
    "TopicBacklog",
]


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

    async def holds(self, key: UserKey, event_ids: Sequence[str]) -> bool:
        """True when a letter (in any state) holds one of these events of the user."""
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
