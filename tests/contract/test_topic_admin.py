"""Topics are created with their settings, verified when they exist, and refused when they differ.

On the session's embedded broker, with fresh topic names per test (the stack's own topics
are checked read-only).
"""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import NewTopic
from typer.testing import CliRunner

from services.progressctl.cli import app
from shared.adapters.connections import connections
from shared.adapters.kafka import kafka_broker
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import (
    TopicsMisconfigured,
    admin_client,
    create_topics,
    grow_topics,
    verify_topics,
)
from shared.adapters.topics import RETENTION_MS

pytestmark = pytest.mark.integration


def _names(n: int = 2) -> tuple[str, ...]:
    run = uuid.uuid4().hex[:8]
    return tuple(f"admin-{run}-{i}" for i in range(n))


async def test_topics_are_created_with_their_settings_and_then_verify(settings: Settings) -> None:
    topics = _names()
    assert await create_topics(settings, topics) == list(topics)
    await verify_topics(settings, topics)
    async with admin_client(settings, "describe") as admin:
        described = await admin.describe_topics(list(topics))
    assert {len(item["partitions"]) for item in described} == {settings.kafka_partitions}
    assert await create_topics(settings, topics) == []  # existing and as asked: verified


async def test_an_existing_topic_that_differs_is_refused_naming_what_differs(
    settings: Settings,
) -> None:
    topics = _names()
    await create_topics(settings, topics)
    wider = settings.model_copy(update={"kafka_partitions": settings.kafka_partitions + 2})
    with pytest.raises(TopicsMisconfigured) as refused:
        await create_topics(wider, topics)
    message = str(refused.value)
    for name in topics:
        assert f"{name}: {settings.kafka_partitions} partitions, expected at least" in message
    assert "PROGRESS_KAFKA_PARTITIONS" in message


async def test_a_topic_created_without_settings_is_refused_naming_each_setting(
    settings: Settings,
) -> None:
    (topic,) = _names(1)
    async with admin_client(settings, "create") as admin:
        await admin.create_topics([NewTopic(topic, settings.kafka_partitions, 1)])
    with pytest.raises(TopicsMisconfigured) as refused:
        await verify_topics(settings, (topic,))
    message = str(refused.value)
    assert f"{topic}: min.insync.replicas=(unset), expected 1" in message
    assert f"{topic}: retention.ms=(unset), expected {RETENTION_MS}" in message
    assert f"{topic}: cleanup.policy=(unset), expected delete" in message


async def test_a_missing_topic_is_named(settings: Settings) -> None:
    (topic,) = _names(1)
    with pytest.raises(TopicsMisconfigured, match=f"{topic}: missing"):
        await verify_topics(settings, (topic,))


async def test_a_service_refuses_to_start_on_topics_that_differ(settings: Settings) -> None:
    wider = settings.model_copy(update={"kafka_partitions": settings.kafka_partitions + 1})
    with pytest.raises(TopicsMisconfigured, match=r"progress\.events: \d+ partitions"):
        async with connections(wider, kafka_broker(wider, client_id="refused"), indexes=False):
            pytest.fail("connected on topics that differ from the settings")


async def test_growing_is_a_no_op_when_every_topic_is_wide_enough(settings: Settings) -> None:
    topics = _names()
    await create_topics(settings, topics)
    assert await grow_topics(settings, settings.kafka_partitions, topics) == []


async def test_growing_on_a_broker_that_cannot_add_partitions_says_so(settings: Settings) -> None:
    """Tansu has no CreatePartitions; growth itself runs against Apache Kafka only."""
    topics = _names()
    await create_topics(settings, topics)
    with pytest.raises(TopicsMisconfigured, match="cannot add partitions"):
        await grow_topics(settings, settings.kafka_partitions + 6, topics)


def test_progressctl_topics_create_exits_1_naming_the_difference(settings: Settings) -> None:
    env = {
        "PROGRESS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PROGRESS_KAFKA_PARTITIONS": str(settings.kafka_partitions + 3),
    }
    result = CliRunner().invoke(app, ["topics", "create"], env=env)
    assert result.exit_code == 1, result.output
    assert "progress.events" in result.stderr
    assert "partitions, expected at least PROGRESS_KAFKA_PARTITIONS" in result.stderr
