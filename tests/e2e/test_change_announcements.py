"""The running services announce every snapshot change on `progress.changes`.

A write through the gateway (projector), `progressctl rebuild` and `progressctl erase` each
announce the user's snapshot position, keyed tenantId/userId.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from shared.adapters.topics import CHANGES_TOPIC
from shared.domain.wire import message_key
from shared.service_layer.changes import SnapshotChange
from tests.e2e.test_operations_cli import cli, event
from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


async def _ends(settings: Settings) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(CHANGES_TOPIC) or set()
        if not partitions:
            await consumer.topics()
            partitions = consumer.partitions_for_topic(CHANGES_TOPIC) or set()
        assigned = [TopicPartition(CHANGES_TOPIC, p) for p in sorted(partitions)]
        return dict(await consumer.end_offsets(assigned))
    finally:
        await consumer.stop()


async def _changes_after(
    settings: Settings, starts: dict[TopicPartition, int], key: bytes, last: SnapshotChange
) -> list[SnapshotChange]:
    """The user's announcements after `starts`, up to `last` (or what came within 15 s)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers)
    await consumer.start()
    found: list[SnapshotChange] = []
    try:
        consumer.assign(list(starts))
        for partition, offset in starts.items():
            consumer.seek(partition, offset)
        for _ in range(30):
            batches = await consumer.getmany(timeout_ms=500)
            found += [
                SnapshotChange.from_json(message.value)
                for batch in batches.values()
                for message in batch
                if message.key == key
            ]
            if last in found:
                break
    finally:
        await consumer.stop()
    return found


def test_a_write_a_rebuild_and_an_erase_each_announce_the_change(
    stack: Stack, api: httpx.Client, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = asyncio.run(_ends(stack.settings))
    url = f"/v1/users/{user_id}/progress"
    assert api.put(url, json={"events": [event("c-1"), event("c-2")]}).status_code == 202
    key = message_key("demo", user_id)
    projected = SnapshotChange("demo", user_id, 2)
    written = asyncio.run(_changes_after(stack.settings, starts, key, projected))
    assert written[-1:] == [projected]

    args = ("rebuild", "--tenant", "demo", "--user", user_id)
    assert cli(stack.settings, monkeypatch, *args).exit_code == 0
    erased = cli(
        stack.settings, monkeypatch, "erase", "--tenant", "demo", "--user", user_id, "--yes"
    )
    assert erased.exit_code == 0, erased.output
    emptied = SnapshotChange("demo", user_id, 0)
    announced = asyncio.run(_changes_after(stack.settings, starts, key, emptied))
    assert announced[len(written) :] == [projected, emptied]


def test_erase_without_kafka_exits_3_and_erases_nothing(
    stack: Stack, api: httpx.Client, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/v1/users/{user_id}/progress"
    assert api.put(url, json={"events": [event("k-1")]}).status_code == 202
    eventually(lambda: api.get(url).json()["snapshot"].get("eventCount") == 1 or None)
    no_kafka = stack.settings.model_copy(
        update={"kafka_bootstrap": f"127.0.0.1:{free_port()}", "kafka_request_timeout_ms": 1000}
    )
    args = ("erase", "--tenant", "demo", "--user", user_id, "--yes")
    assert cli(no_kafka, monkeypatch, *args).exit_code == 3
    assert api.get(url).json()["snapshot"]["eventCount"] == 1
