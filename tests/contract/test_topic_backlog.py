"""The topic backlog's contract, on the real broker and the fake: what a group left, exactly.

The real half uses a fresh one-partition topic per test on the session's broker.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from shared.adapters.kafka_backlog import topic_backlog
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import create_topics
from shared.service_layer.ports import TopicBacklog
from shared.service_layer.topic_messages import TopicMessage
from tests.fakes import InMemoryTopicBacklog


@dataclass
class Broker:
    backlog: TopicBacklog
    topic: str
    commit: Callable[[str, int], Awaitable[None]]  # (group, offset) on the topic


async def _kafka_commit(settings: Settings, topic: str, group: str, offset: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers, group_id=group)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.commit({partition: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("kafka", marks=pytest.mark.integration),
    ]
)
def kafka_settings(request: pytest.FixtureRequest) -> Settings | None:
    """None for the fake; the session's settings (starting the servers) for the broker."""
    if request.param == "memory":
        return None
    session: Settings = request.getfixturevalue("settings")
    return session.model_copy(update={"kafka_partitions": 1})


@pytest.fixture
async def broker(kafka_settings: Settings | None) -> AsyncIterator[Broker]:
    topic = f"backlog-{uuid.uuid4().hex[:8]}"
    if kafka_settings is None:
        fake = InMemoryTopicBacklog()

        async def commit_fake(group: str, offset: int) -> None:
            fake.committed[(topic, group)] = offset

        yield Broker(fake, topic, commit_fake)
        return
    settings = kafka_settings
    await create_topics(settings, (topic,))

    async def commit_kafka(group: str, offset: int) -> None:
        await _kafka_commit(settings, topic, group, offset)

    async with topic_backlog(settings) as backlog:
        yield Broker(backlog, topic, commit_kafka)


def message(topic: str, n: int, key: bytes | None = b"demo/u1") -> TopicMessage:
    headers = (("attempt", str(n).encode()), ("due-at", b"2026-11-20T10:00:00+00:00"))
    return TopicMessage(topic, key, f'{{"n": {n}}}'.encode(), headers)


async def test_a_group_that_consumed_nothing_has_everything_left_bytes_intact(
    broker: Broker,
) -> None:
    sent = [message(broker.topic, n) for n in range(4)] + [message(broker.topic, 4, key=None)]
    await broker.backlog.publish(sent)
    assert await broker.backlog.unconsumed(broker.topic, "nobody") == sent


async def test_only_what_follows_the_committed_offset_is_left(broker: Broker) -> None:
    sent = [message(broker.topic, n) for n in range(5)]
    await broker.backlog.publish(sent)
    await broker.commit("half", 3)
    await broker.commit("all", 5)
    assert await broker.backlog.unconsumed(broker.topic, "half") == sent[3:]
    assert await broker.backlog.unconsumed(broker.topic, "all") == []


async def test_an_empty_topic_leaves_nothing(broker: Broker) -> None:
    assert await broker.backlog.unconsumed(broker.topic, "nobody") == []
    await broker.backlog.publish([])
    assert await broker.backlog.unconsumed(broker.topic, "nobody") == []
