"""Batches per partition on the real broker: each key lands where `send` would put it, in order.

A fresh three-partition topic per test on the session's broker; the producer's batches are
made small, so one partition's records also go out as several batches.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from shared.adapters.kafka import create_topics
from shared.adapters.kafka_batches import send_by_partition
from shared.adapters.settings import Settings

pytestmark = pytest.mark.integration


async def test_records_keep_their_key_partition_and_order(settings: Settings) -> None:
    topic = f"batches-{uuid.uuid4().hex[:8]}"
    await create_topics(settings.model_copy(update={"kafka_partitions": 3}), (topic,))
    keys = [f"demo/u{n}".encode() for n in range(7)]
    records = [(keys[n % len(keys)], f"{n:04d}".encode() + b"." * 200) for n in range(120)]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_servers, max_batch_size=2048)
    await producer.start()
    try:
        deliveries: list[asyncio.Future[Any]] = []
        await send_by_partition(producer, topic, records, [("h", b"v")], deliveries)
        for delivery in deliveries:
            await delivery
        assert len(deliveries) > 3  # several batches on some partition
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    received = []
    try:
        while len(received) < len(records):
            batches = await consumer.getmany(timeout_ms=2000)
            assert batches, f"only {len(received)} of {len(records)} records arrived"
            received += [record for batch in batches.values() for record in batch]
    finally:
        await consumer.stop()
    partitioner = DefaultPartitioner()
    for record in received:
        assert record.partition == partitioner(record.key, [0, 1, 2], [0, 1, 2])
        assert list(record.headers) == [("h", b"v")]
    for key in keys:
        sent = [value for k, value in records if k == key]
        assert [r.value for r in received if r.key == key] == sent
