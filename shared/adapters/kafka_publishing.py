"""Publishing to the progress topics: accepted events, retry tiers, dead letters, replays.

Every publish waits for the broker's acknowledgement (acks=all) within a bound, and every
failure to get one is `BrokerUnavailable`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher

from shared.adapters.kafka import broker_errors, connected_producer, event_headers
from shared.adapters.message_schema import RecordedEventMessage
from shared.adapters.topics import DLQ_TOPIC, EVENTS_TOPIC, tier_topic
from shared.domain import RecordedEvent
from shared.domain.wire import message_key
from shared.service_layer.deliveries import Attempt, Delivery
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.message_headers import (
    HEADER_ATTEMPT,
    HEADER_DUE_AT,
    HEADER_ERROR,
    HEADER_ERROR_HISTORY,
    HEADER_FIRST_FAILED_AT,
    HEADER_ORIGINAL_OFFSET,
    HEADER_ORIGINAL_PARTITION,
    HEADER_ORIGINAL_TOPIC,
    HEADER_REASON,
)
from shared.service_layer.retry_schedule import JITTER, RETRY_TIERS

__all__ = [
    "KafkaEventPublisher",
    "KafkaRepublisher",
    "KafkaRetryRoutes",
    "events_publisher",
    "send_acknowledged",
]


def events_publisher(broker: KafkaBroker) -> DefaultPublisher:
    """Declare the `progress.events` publisher on a broker (it shows in the AsyncAPI document)."""
    return broker.publisher(
        EVENTS_TOPIC,
        title=EVENTS_TOPIC,
        description="Accepted progress events, keyed tenantId/userId, with server fields.",
        schema=RecordedEventMessage,
    )


class KafkaEventPublisher:
    """Sends a request's events in one go (the producer batches them) within a time bound."""

    def __init__(self, broker: KafkaBroker, timeout_seconds: float) -> None:
        self._broker = broker
        self._timeout = timeout_seconds

    async def publish(self, events: Sequence[RecordedEvent], request_id: str) -> None:
        """Return once the broker acknowledged every event; else `BrokerUnavailable`.

        The error names the events' types, so the gateway counts what went unacknowledged.
        """
        try:
            async with broker_errors("events not acknowledged"):
                sending = self._send(events, event_headers(request_id))
                await asyncio.wait_for(sending, self._timeout)
        except BrokerUnavailable as error:
            raise BrokerUnavailable(str(error), [e.type for e in events]) from error

    async def _send(self, events: Sequence[RecordedEvent], headers: dict[str, str]) -> None:
        """Send the events straight to aiokafka (see `send_acknowledged`).

        A FastStream publish per event (a command object, a correlation id, middlewares)
        cost a tenth of the gateway's CPU.
        """
        await send_acknowledged(
            self._broker,
            EVENTS_TOPIC,
            ((message_key(e.tenant_id, e.user_id), e.to_json()) for e in events),
            headers,
        )


async def send_acknowledged(
    broker: KafkaBroker,
    topic: str,
    messages: Iterable[tuple[bytes, bytes]],
    headers: dict[str, str] | None = None,
) -> None:
    """Append (key, value) messages to the producer one after another, then await them all.

    Per message, not one batch per partition: aiokafka's accumulator already gathers one
    batch per partition across concurrent callers, while a batch of its own per call and
    partition queued behind the others' (one pending batch per partition) and ran into the
    time bound under load. One at a time, not concurrently: concurrent sends that meet a
    full batch all wait for it to drain and then race for the next one. Appending returns
    as soon as the message is in a batch; the acknowledgements are awaited together.
    """
    producer = connected_producer(broker)
    raw_headers = [(name, value.encode()) for name, value in (headers or {}).items()]
    deliveries: list[asyncio.Future[Any]] = []
    try:
        for key, value in messages:
            delivery = await producer.send(topic, value, key=key, headers=raw_headers)
            deliveries.append(delivery)
        await asyncio.gather(*deliveries)
    except BaseException:
        # Cut short (the time bound, a failed append): nobody awaits the rest any more.
        for delivery in deliveries:
            delivery.add_done_callback(_consume_outcome)
        raise


def _consume_outcome(delivery: asyncio.Future[Any]) -> None:
    """Mark a delivery's failure as seen: the caller already answered 503 for it."""
    if not delivery.cancelled():
        delivery.exception()


def _failure_headers(delivery: Delivery, attempts: Sequence[Attempt]) -> dict[str, str]:
    headers = event_headers(delivery.request_id or "")
    headers.update(
        {
            HEADER_ATTEMPT: str(len(attempts)),
            HEADER_ERROR: attempts[-1].error if attempts else "",
            HEADER_ERROR_HISTORY: json.dumps([attempt.to_dict() for attempt in attempts]),
            HEADER_ORIGINAL_TOPIC: delivery.topic,
            HEADER_ORIGINAL_PARTITION: str(delivery.partition),
            HEADER_ORIGINAL_OFFSET: str(delivery.offset),
        }
    )
    if attempts:
        headers[HEADER_FIRST_FAILED_AT] = attempts[0].at.isoformat()
    return headers


class KafkaRetryRoutes:
    """The retry tiers' and the dead-letter topic's publishers, declared on one broker."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._tiers = [
            broker.publisher(
                tier_topic(tier),
                title=tier_topic(tier),
                description=f"Failed events, re-attempted {tier.name} (±{JITTER:.0%}) later.",
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

    async def to_tier(
        self, tier: int, delivery: Delivery, attempts: Sequence[Attempt], due_at: datetime
    ) -> None:
        """Publish onto retry tier `tier` with the attempt history and the due time."""
        headers = _failure_headers(delivery, attempts)
        headers[HEADER_DUE_AT] = due_at.isoformat()
        async with broker_errors("retry tier publish"):
            await self._tiers[tier].publish(delivery.raw, key=delivery.key, headers=headers)

    async def to_dead_letter_topic(
        self, delivery: Delivery, reason: str, attempts: Sequence[Attempt]
    ) -> None:
        """Publish onto the dead-letter topic with the reason."""
        headers = _failure_headers(delivery, attempts)
        headers[HEADER_REASON] = reason
        async with broker_errors("dead-letter publish"):
            await self._dlq.publish(delivery.raw, key=delivery.key, headers=headers)


class KafkaRepublisher:
    """Puts raw messages back onto `progress.events` (replayed dead letters)."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def republish(self, raw: bytes, key: bytes | None, request_id: str | None) -> None:
        """Publish with the original key and request id; wait for the acknowledgement."""
        async with broker_errors("replay publish"):
            await self._broker.publish(
                raw, topic=EVENTS_TOPIC, key=key, headers=event_headers(request_id or "")
            )
