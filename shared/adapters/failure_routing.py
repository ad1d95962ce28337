"""Where a failed message goes next: the retry tier of its attempt, or the dead letters."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from faststream.kafka import KafkaBroker

from shared.adapters.dead_letters import Attempt, DeadLetter, MongoDeadLetterStore
from shared.adapters.logs import get_logger
from shared.adapters.message_schema import RecordedEventMessage
from shared.adapters.metrics import DLQ_EVENTS, RETRY_DELAY_SECONDS, RETRY_EVENTS
from shared.adapters.topics import DLQ_TOPIC, RETRY_TIERS, SCHEMA_VERSION, message_key
from shared.domain import RecordedEvent

__all__ = ["JITTER", "ConsumedRecord", "Delivery", "FailureRouter"]

JITTER = 0.2
_MAX_ERROR_CHARS = 500
log = get_logger(__name__)


class ConsumedRecord(Protocol):
    """The parts of an aiokafka `ConsumerRecord` that failure routing reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


def _header_map(record: ConsumedRecord) -> dict[str, str]:
    return {name: bytes(value).decode(errors="replace") for name, value in record.headers or ()}


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
        headers = _header_map(record)
        history = json.loads(headers.get("error-history", "[]"))
        due = headers.get("due-at")
        return cls(
            raw=record.value or b"",
            key=record.key,
            topic=headers.get("original-topic", record.topic),
            partition=int(headers.get("original-partition", record.partition)),
            offset=int(headers.get("original-offset", record.offset)),
            request_id=headers.get("request-id") or None,
            attempts=[Attempt.from_dict(item) for item in history],
            due_at=datetime.fromisoformat(due) if due else None,
        )


class FailureRouter:
    """Sends failed events to the next retry tier, and what cannot succeed to the dead letters.

    Each send waits for the broker's acknowledgement and the dead-letter document is written
    before the caller commits its offset, so a failed message is never dropped: if either
    fails, the caller's offset stays where it was and the message comes back.
    """

    def __init__(
        self,
        broker: KafkaBroker,
        letters: MongoDeadLetterStore,
        rng: random.Random | None = None,
    ) -> None:
        self._tiers = [
            broker.publisher(
                tier.topic,
                title=tier.topic,
                description=f"Failed events, re-attempted {tier.name} (±20 %) after failing.",
                schema=RecordedEventMessage,
            )
            for tier in RETRY_TIERS
        ]
        self._dlq = broker.publisher(
            DLQ_TOPIC,
            title=DLQ_TOPIC,
            description="Events that will not be retried (header `reason`); the raw bytes of "
            "undecodable messages.",
            schema=RecordedEventMessage,
        )
        self._letters = letters
        self._rng = rng or random.Random()

    async def retry_or_dead_letter(
        self, delivery: Delivery, error: str, event: RecordedEvent | None
    ) -> None:
        """Schedule the next attempt, or dead-letter after the last tier has failed."""
        attempt = Attempt(len(delivery.attempts) + 1, error[:_MAX_ERROR_CHARS], datetime.now(UTC))
        attempts = [*delivery.attempts, attempt]
        if attempt.attempt > len(RETRY_TIERS):
            await self._dead_letter(delivery, "retries_exhausted", attempts, event)
            return
        tier = RETRY_TIERS[attempt.attempt - 1]
        delay = tier.delay_seconds * self._rng.uniform(1 - JITTER, 1 + JITTER)
        due_at = attempt.at + timedelta(seconds=delay)
        headers = self._headers(delivery, attempts)
        headers["due-at"] = due_at.isoformat()
        await self._tiers[attempt.attempt - 1].publish(
            delivery.raw, key=delivery.key, headers=headers
        )
        RETRY_EVENTS.labels(tier.name, "scheduled").inc()
        log.warning(
            "event_scheduled_for_retry",
            request_id=delivery.request_id,
            tenant=event.tenant_id if event else None,
            event_id=event.event_id if event else None,
            tier=tier.name,
            attempt=attempt.attempt,
            error=error,
            topic=delivery.topic,
            partition=delivery.partition,
            offset=delivery.offset,
        )

    async def dead_letter_now(
        self, delivery: Delivery, reason: str, error: str, event: RecordedEvent | None
    ) -> None:
        """Dead-letter at once a message that cannot succeed on retry (undecodable, invalid)."""
        attempt = Attempt(len(delivery.attempts) + 1, error[:_MAX_ERROR_CHARS], datetime.now(UTC))
        await self._dead_letter(delivery, reason, [*delivery.attempts, attempt], event)

    async def _dead_letter(
        self,
        delivery: Delivery,
        reason: str,
        attempts: list[Attempt],
        event: RecordedEvent | None,
    ) -> None:
        key = delivery.key
        if key is None and event is not None:
            key = message_key(event.tenant_id, event.user_id)
        # 1. The letter first: the upsert is idempotent, so a redelivery after a failed
        #    publish below stores it once. 2. Then the topic. 3. The caller commits.
        letter_id = await self._letters.add(
            DeadLetter(
                reason=reason,
                raw=delivery.raw,
                key=key,
                attempts=attempts,
                original_topic=delivery.topic,
                original_partition=delivery.partition,
                original_offset=delivery.offset,
                request_id=delivery.request_id,
                tenant_id=event.tenant_id if event else None,
                user_id=event.user_id if event else None,
                event_id=event.event_id if event else None,
                event_type=event.type if event else None,
            )
        )
        headers = self._headers(delivery, attempts)
        headers["reason"] = reason
        await self._dlq.publish(delivery.raw, key=key, headers=headers)
        DLQ_EVENTS.labels(reason).inc()
        if delivery.attempts:
            in_retry = (attempts[-1].at - delivery.attempts[0].at).total_seconds()
            RETRY_DELAY_SECONDS.labels("dead_lettered").observe(in_retry)
        log.error(
            "event_dead_lettered",
            request_id=delivery.request_id,
            tenant=event.tenant_id if event else None,
            event_id=event.event_id if event else None,
            reason=reason,
            dead_letter_id=letter_id,
            attempts=len(attempts),
            topic=delivery.topic,
            partition=delivery.partition,
            offset=delivery.offset,
        )

    @staticmethod
    def _headers(delivery: Delivery, attempts: list[Attempt]) -> dict[str, str]:
        first_failed = attempts[0].at if attempts else datetime.now(UTC)
        return {
            "content-type": "application/json",
            "schema-version": SCHEMA_VERSION,
            "attempt": str(len(attempts)),
            "error": attempts[-1].error if attempts else "",
            "error-history": json.dumps([attempt.to_dict() for attempt in attempts]),
            "original-topic": delivery.topic,
            "original-partition": str(delivery.partition),
            "original-offset": str(delivery.offset),
            "first-failed-at": first_failed.isoformat(),
            "request-id": delivery.request_id or "",
        }
