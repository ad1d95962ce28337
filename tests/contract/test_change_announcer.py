"""The change announcer on the real broker: acknowledged, keyed tenantId/userId, readable back.

The session's stack created `progress.changes` with the other topics, with the partitions of
`progress.events` and a retention of at least a week.
"""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.adapters.change_publishing import KafkaChangeAnnouncer
from shared.adapters.kafka import connected_producer, kafka_broker
from shared.adapters.settings import Settings
from shared.adapters.topics import CHANGES_TOPIC, EVENTS_TOPIC, RETENTION_MS
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.errors import BrokerUnavailable

pytestmark = pytest.mark.integration


async def test_changes_are_acknowledged_keyed_and_read_back(settings: Settings) -> None:
    broker = kafka_broker(settings, client_id="contract-changes")
    await broker.connect()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers)
    await consumer.start()
    try:
        producer = connected_producer(broker)
        partitions = sorted(await producer.partitions_for(CHANGES_TOPIC))
        assert partitions == sorted(await producer.partitions_for(EVENTS_TOPIC))
        assigned = [TopicPartition(CHANGES_TOPIC, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        starts = {tp: await consumer.position(tp) for tp in assigned}
        sent = [SnapshotChange("contract", f"changes-{n}", n) for n in range(10)]
        await KafkaChangeAnnouncer(broker, settings, "projector").announce(sent)
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        received: list[SnapshotChange] = []
        while len(received) < len(sent):
            batches = await consumer.getmany(timeout_ms=2000)
            assert batches, f"only {len(received)} of {len(sent)} changes arrived"
            for batch in batches.values():
                for message in batch:
                    change = SnapshotChange.from_json(message.value)
                    assert message.key == f"{change.tenant_id}/{change.user_id}".encode()
                    received.append(change)
    finally:
        await consumer.stop()
        await broker.stop()
    assert sorted(received, key=lambda c: c.cursor) == sent


async def test_an_unconnected_broker_fails_the_announcement() -> None:
    settings = Settings(kafka_request_timeout_ms=1000)
    changes = KafkaChangeAnnouncer(kafka_broker(settings, client_id="offline"), settings, "rebuild")
    with pytest.raises(BrokerUnavailable):
        await changes.announce([SnapshotChange("contract", "u", 1)])


async def test_the_changes_topic_keeps_a_week(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    await admin.start()
    try:
        (described,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, CHANGES_TOPIC)]
        )
    finally:
        await admin.close()
    configs = {name: value for name, value, *_ in described.resources[0][4]}
    assert int(configs["retention.ms"]) >= RETENTION_MS
