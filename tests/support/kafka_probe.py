"""Looking at what is on a topic, to prove what was (not) published, and putting events there."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from tests.unit.domain.builders import raw_event, record


async def _size(settings: Settings, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers)
    try:
        await admin.start()
        await consumer.start()
        (description,) = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in description["partitions"]]
        ends = await consumer.end_offsets(partitions)
        return int(sum(ends.values()))
    finally:
        await consumer.stop()
        await admin.close()


def topic_size(settings: Settings, topic: str = EVENTS_TOPIC) -> int:
    """How many messages were ever written to `topic` (sum of end offsets)."""
    return asyncio.run(_size(settings, topic))


async def produce_events(
    settings: Settings, topic: str, count: int, *, prefix: str, partitions: int = 1
) -> list[str]:
    """Put `count` valid events on `topic` straight through a producer (no gateway needed),
    spread round-robin over its first `partitions` partitions; their eventIds."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_servers)
    await producer.start()
    ids: list[str] = []
    try:
        for n in range(count):
            event = record(
                raw_event(
                    "content.progressed",
                    "2026-11-20T10:00:00Z",
                    {"contentId": f"c-{n}", "status": "completed"},
                    event_id=f"{prefix}-{n}",
                )
            )
            ids.append(event.event_id)
            await producer.send(topic, event.to_json(), partition=n % partitions)
        await producer.flush()
    finally:
        await producer.stop()
    return ids
