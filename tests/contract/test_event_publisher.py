"""The gateway's event publisher on the real broker: every event acknowledged, keyed, in order.

It sends through the FastStream broker's own aiokafka producer (reached in one place,
`connected_producer`), so these also fail if FastStream ever keeps that producer elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaBroker

from shared.adapters.kafka import connected_producer, kafka_broker
from shared.adapters.kafka_publishing import KafkaEventPublisher
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from shared.domain import RecordedEvent, accept_event
from shared.service_layer.errors import BrokerUnavailable

pytestmark = pytest.mark.integration


def test_an_unconnected_broker_has_no_producer_to_lend() -> None:
    with pytest.raises(BrokerUnavailable, match="not connected"):
        connected_producer(KafkaBroker("127.0.0.1:1"))


def _event(user: str, n: int) -> RecordedEvent:
    now = datetime.now(UTC)
    raw = {
        "eventId": f"publisher-{user}-{n}",
        "occurredAt": now.isoformat(),
        "clientId": "contract",
        "type": "content.progressed",
        "payload": {"contentId": f"c{n}", "status": "in_progress"},
    }
    event, _ = accept_event(raw, now=now)
    return RecordedEvent(tenant_id="contract", user_id=user, received_at=now, event=event)


async def test_events_are_acknowledged_on_their_key_partition_in_order(
    settings: Settings,
) -> None:
    broker = kafka_broker(settings, client_id="contract-publisher")
    await broker.connect()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers)
    await consumer.start()
    try:
        partitions = sorted(await connected_producer(broker).partitions_for(EVENTS_TOPIC))
        assigned = [TopicPartition(EVENTS_TOPIC, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        starts = {tp: await consumer.position(tp) for tp in assigned}
        events = [_event(f"pub-{n % 5}", n) for n in range(60)]
        await KafkaEventPublisher(broker, 10).publish(events, "contract-request")
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        mine: list[tuple[int, bytes, bytes]] = []
        while len(mine) < len(events):
            batches = await consumer.getmany(timeout_ms=2000)
            assert batches, f"only {len(mine)} of {len(events)} events arrived"
            mine += [
                (r.partition, r.key, r.value)
                for batch in batches.values()
                for r in batch
                if r.key and r.key.startswith(b"contract/pub-")
            ]
    finally:
        await consumer.stop()
        await broker.stop()
    partitioner = DefaultPartitioner()
    for partition, key, _ in mine:
        assert partition == partitioner(key, partitions, partitions)
    for user in {event.user_id for event in events}:
        sent = [e.to_json() for e in events if e.user_id == user]
        assert [value for _, key, value in mine if key == f"contract/{user}".encode()] == sent


async def test_events_not_acknowledged_raise_broker_unavailable_naming_their_types() -> None:
    events = [_event("pub-down", 1), _event("pub-down", 2)]
    with pytest.raises(BrokerUnavailable, match="not connected") as refused:
        await KafkaEventPublisher(KafkaBroker("127.0.0.1:1"), 1).publish(events, "r")
    assert refused.value.event_types == ("content.progressed", "content.progressed")
