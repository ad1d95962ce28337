"""Looking at what is on a topic, to prove what was (not) published."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC


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
