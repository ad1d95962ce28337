"""Raw access to topics for parking: read what a group has not consumed, publish it back.

Bytes in, bytes out: keys, values and headers are kept exactly as they were, so a message
on a retry tier comes back with its attempt count, history and due time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.adapters.kafka import broker_errors, kafka_client_options, unconsumed_ranges
from shared.adapters.settings import Settings
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.topic_messages import TopicMessage

__all__ = ["KafkaTopicBacklog", "topic_backlog"]

_FETCH_WAIT_MS = 300
_QUIET_ROUNDS = 2
"""Empty fetches in a row that mean "nothing more" (one could be a slow answer)."""


class KafkaTopicBacklog:
    """Reads partitions between two offsets and publishes raw messages (acks=all)."""

    def __init__(
        self,
        admin: AIOKafkaAdminClient,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        timeout_seconds: float,
    ) -> None:
        self._admin = admin
        self._consumer = consumer
        self._producer = producer
        self._timeout = timeout_seconds

    async def unconsumed(self, topic: str, group: str) -> list[TopicMessage]:
        """The messages after `group`'s committed offsets, partition by partition, in order.

        Reads until the broker has nothing more, not just up to the end offsets it reports:
        the embedded broker (Tansu) reports a partition's end as one past the first record
        of its last batch, so trusting it would leave the rest of that batch behind. The
        topic must not be growing (its producers stopped), or this would read on.
        """
        async with broker_errors(f"cannot read what {group} has not consumed on {topic}"):
            ranges = await unconsumed_ranges(self._admin, self._consumer, group, topic)
            if not ranges:
                return []
            self._consumer.assign(list(ranges))
            for partition, (first, _) in ranges.items():
                self._consumer.seek(partition, first)
            records = await self._read_to_the_end({p: end for p, (_, end) in ranges.items()})
        records.sort(key=lambda record: (record.partition, record.offset))
        return [
            TopicMessage(
                topic=record.topic,
                key=record.key,
                value=record.value or b"",
                headers=tuple((name, bytes(value)) for name, value in record.headers),
            )
            for record in records
        ]

    async def _read_to_the_end(self, ends: dict[TopicPartition, int]) -> list[Any]:
        """Fetch until every partition is past its reported end and the broker sends nothing.

        Raises:
            BrokerUnavailable: If that takes longer than the time bound.
        """
        deadline = time.monotonic() + self._timeout
        records: list[Any] = []
        quiet_rounds = 0
        while quiet_rounds < _QUIET_ROUNDS:
            if time.monotonic() > deadline:
                raise BrokerUnavailable(f"reading {sorted(map(str, ends))} did not finish")
            batches = await self._consumer.getmany(timeout_ms=_FETCH_WAIT_MS)
            fetched = [record for batch in batches.values() for record in batch]
            records += fetched
            behind = [p for p, end in ends.items() if await self._consumer.position(p) < end]
            quiet_rounds = 0 if fetched or behind else quiet_rounds + 1
        return records

    async def publish(self, messages: Sequence[TopicMessage]) -> None:
        """Publish each onto its topic with its key and headers; return once all are acked."""
        async with broker_errors("parked messages not acknowledged"):
            await asyncio.wait_for(self._send(messages), self._timeout)

    async def _send(self, messages: Sequence[TopicMessage]) -> None:
        deliveries: list[asyncio.Future[Any]] = []
        for message in messages:
            deliveries.append(
                await self._producer.send(
                    message.topic, message.value, key=message.key, headers=list(message.headers)
                )
            )
        await asyncio.gather(*deliveries)


@asynccontextmanager
async def topic_backlog(settings: Settings) -> AsyncIterator[KafkaTopicBacklog]:
    """A started `KafkaTopicBacklog` on the configured broker, closed afterwards.

    Its producer is idempotent only if `PROGRESS_KAFKA_IDEMPOTENT` says so (the embedded
    broker refuses it); it joins no consumer group and commits nothing.
    """
    options, timeout_ms = kafka_client_options(settings), settings.kafka_request_timeout_ms
    admin = AIOKafkaAdminClient(**options)
    consumer = AIOKafkaConsumer(
        **options,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # an offset out of range: read again, never skip
        fetch_max_wait_ms=_FETCH_WAIT_MS // 3,
    )
    producer = AIOKafkaProducer(
        **options,
        acks="all",
        enable_idempotence=settings.kafka_idempotent,
    )
    try:
        async with broker_errors("cannot connect to the broker"):
            await admin.start()
            await consumer.start()
            await producer.start()
        yield KafkaTopicBacklog(admin, consumer, producer, max(30.0, timeout_ms / 1000 * 6))
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.close()
