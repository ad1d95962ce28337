"""Two consumers in one group on the embedded broker, a rebalance in the middle of a batch.

The batch the first consumer holds when its partitions are revoked is not committed by it
(counted and logged as dropped); the group's new owners read it again from the last
commit, so every record is handled and committed, none is skipped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import pytest
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from shared.adapters.consumer_liveness import ConsumerLiveness
from shared.adapters.kafka import consumer_lag, kafka_broker
from shared.adapters.kafka_consuming import ConsumerLoop, consume_message, loop_options, raw_bodies
from shared.adapters.metrics import CONSUMER_REVOKED_RECORDS
from shared.adapters.partition_ownership import PartitionOwnership
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import create_topics
from shared.domain import RecordedEvent
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.failure_routing import FailureRouter
from shared.service_layer.projection import Projection, ProjectionReport
from tests.fakes import (
    FixedClock,
    InMemoryDeadLetterStore,
    InMemoryEventLog,
    InMemoryRetryRoutes,
    InMemorySnapshotStore,
    RecordingMetrics,
)
from tests.support.kafka_probe import produce_events

pytestmark = pytest.mark.integration

_RECORDS = 40
_SERVICE = "rebalance_test"


class _Held(Projection):
    """Projects nothing; the first batch waits until the test lets it go."""

    def __init__(self, release: asyncio.Event | None) -> None:
        super().__init__(InMemoryEventLog(), InMemorySnapshotStore())
        self.release = release
        self.holding = asyncio.Event()
        self.seen: list[str] = []

    async def project(self, events: Sequence[RecordedEvent]) -> ProjectionReport:
        self.seen.extend(event.event_id for event in events)
        if self.release is not None:
            self.holding.set()
            await self.release.wait()
            self.release = None
        return ProjectionReport()


@asynccontextmanager
async def _member(
    settings: Settings, topic: str, group: str, projection: Projection
) -> AsyncIterator[ConsumerLoop]:
    """One consumer of `group` on `topic`, projecting through the production consume path."""
    broker: KafkaBroker = kafka_broker(settings, client_id=f"member-{uuid.uuid4().hex[:4]}")
    loop = ConsumerLoop(_SERVICE, PartitionOwnership(_SERVICE), ConsumerLiveness(60))
    consumer = BatchConsumer(
        projection,
        FailureRouter(InMemoryRetryRoutes(), InMemoryDeadLetterStore(), FixedClock()),
        RecordingMetrics(),
    )

    @broker.subscriber(
        topic,
        group_id=group,
        batch=True,
        max_records=_RECORDS,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_bodies,
        **loop_options(settings, loop),
    )
    async def handle(body: list[bytes], message: KafkaMessage) -> None:
        await consume_message(loop, consumer, message)

    await broker.start()
    try:
        yield loop
    finally:
        await broker.stop()


async def _until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_batch_whose_partitions_are_revoked_midway_is_not_committed_by_its_old_owner(
    settings: Settings,
) -> None:
    own = settings.model_copy(
        update={
            "kafka_partitions": 2,
            "consumer_session_timeout_ms": 6_000,
            "consumer_heartbeat_interval_ms": 500,
        }
    )
    topic, group = f"rebalance-{uuid.uuid4().hex[:8]}", f"rebalance-{uuid.uuid4().hex[:8]}"
    await create_topics(own, (topic,))
    ids = await produce_events(own, topic, _RECORDS, prefix="rebalance", partitions=2)
    dropped = CONSUMER_REVOKED_RECORDS.labels(_SERVICE, "during")
    dropped_before = dropped._value.get()
    gate = asyncio.Event()
    first, second = _Held(gate), _Held(None)

    async with _member(own, topic, group, first) as first_loop:
        try:
            await asyncio.wait_for(first.holding.wait(), 30)
            held = list(first.seen)
            partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
            marks = first_loop.ownership.marks(partitions)
            async with _member(own, topic, group, second):
                await _until(
                    lambda: first_loop.ownership.revoked_since(marks),
                    30,
                    "the first consumer's revocation",
                )
                gate.set()
                await _until(
                    lambda: set(ids) <= set(first.seen[len(held) :]) | set(second.seen),
                    30,
                    "every record handled after the rebalance",
                )
                await _until(
                    lambda: dropped._value.get() - dropped_before == len(held),
                    10,
                    "the held batch counted as dropped",
                )
                await _committed_to_the_end(own, group, topic)
        finally:
            # Leaving the member waits for its held batch: a failed wait must not hang it.
            gate.set()
    assert held, "the first consumer held a batch"


async def _committed_to_the_end(settings: Settings, group: str, topic: str) -> None:
    for _ in range(100):
        if sum((await consumer_lag(settings, group, topic)).values()) == 0:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"group {group} left records uncommitted on {topic}")
