"""Administering the topics: create them with their settings, verify them, grow them.

Topics are not taken as they come: every service verifies at start that each topic has at
least `PROGRESS_KAFKA_PARTITIONS` partitions (`progress.changes` as many as
`progress.events`), `PROGRESS_KAFKA_REPLICATION_FACTOR` replicas and the settings of
`topics.topic_configs`, and refuses to start naming what differs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import IncompatibleBrokerVersion

from shared.adapters.kafka import broker_errors, kafka_client_options
from shared.adapters.settings import Settings
from shared.adapters.topics import ALL_TOPICS, CHANGES_TOPIC, EVENTS_TOPIC, topic_configs
from shared.service_layer.errors import BrokerUnavailable

__all__ = [
    "TopicsMisconfigured",
    "admin_client",
    "create_topics",
    "grow_topics",
    "list_topics",
    "topic_differences",
    "verify_topics",
]

_TOPIC_EXISTS = 36
_AT_LEAST = frozenset({"min.insync.replicas", "retention.ms"})
"""Settings where more than asked is as good (a longer retention, more in-sync replicas)."""


class TopicsMisconfigured(RuntimeError):
    """The broker's topics differ from what these settings need; the message says how."""


@asynccontextmanager
async def admin_client(settings: Settings, what: str) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed after; broker errors become `BrokerUnavailable(what)`."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    try:
        async with broker_errors(what):
            await admin.start()
            yield admin
    finally:
        await admin.close()


async def create_topics(settings: Settings, topics: tuple[str, ...] = ALL_TOPICS) -> list[str]:
    """Create the missing topics with their settings, verify the rest; the ones created.

    Raises:
        TopicsMisconfigured: A topic that already existed differs from these settings.
    """
    configs = topic_configs(settings.kafka_min_insync_replicas)
    async with admin_client(settings, "cannot create topics") as admin:
        response = await admin.create_topics(
            [
                NewTopic(
                    name,
                    settings.kafka_partitions,
                    settings.kafka_replication_factor,
                    topic_configs=configs,
                )
                for name in topics
            ]
        )
        created: list[str] = []
        for name, code, message in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != _TOPIC_EXISTS:
                raise BrokerUnavailable(f"cannot create topic {name}: {message} (error {code})")
        existing = tuple(name for name in topics if name not in created)
        if existing:
            _refuse(await topic_differences(admin, settings, existing))
    return created


async def verify_topics(settings: Settings, topics: tuple[str, ...] = ALL_TOPICS) -> None:
    """Check the topics against these settings (a service does this at start).

    Raises:
        TopicsMisconfigured: Naming every topic that is missing or differs, and how.
    """
    async with admin_client(settings, "cannot describe topics") as admin:
        _refuse(await topic_differences(admin, settings, topics))


async def grow_topics(
    settings: Settings, partitions: int, topics: tuple[str, ...] = ALL_TOPICS
) -> list[str]:
    """Give every topic with fewer than `partitions` that many; the topics grown.

    Kafka can add partitions, never remove them. A user's events stay in order across the
    change because the new partitions only receive users hashed there from then on, after
    the old partition's backlog; every topic grows together so `progress.changes` keeps the
    partition count of `progress.events`.

    Raises:
        TopicsMisconfigured: The broker cannot add partitions (the embedded Tansu broker).
    """
    async with admin_client(settings, "cannot grow topics") as admin:
        known = set(await admin.list_topics())
        missing = [name for name in topics if name not in known]
        if missing:
            raise TopicsMisconfigured(f"cannot grow missing topics: {', '.join(missing)}")
        counts = await _partition_counts(admin, topics)
        smaller = {name: NewPartitions(partitions) for name, n in counts.items() if n < partitions}
        if not smaller:
            return []
        try:
            response = await admin.create_partitions(smaller)
        except IncompatibleBrokerVersion as error:
            raise TopicsMisconfigured(
                f"this broker cannot add partitions to a topic (no CreatePartitions): {error}"
            ) from error
    failed = [f"{name}: {message}" for name, code, message in response.topic_errors if code]
    if failed:
        raise TopicsMisconfigured("cannot grow " + "; ".join(failed))
    return sorted(smaller)


async def list_topics(settings: Settings) -> list[str]:
    """The topics the broker knows, sorted."""
    async with admin_client(settings, "cannot list topics") as admin:
        topics: list[str] = await admin.list_topics()
    return sorted(topics)


async def topic_differences(
    admin: AIOKafkaAdminClient, settings: Settings, topics: tuple[str, ...]
) -> list[str]:
    """How each topic differs from these settings (empty: every one is as it should be).

    Only topics the broker lists are described: describing a missing one would create it
    with the broker's defaults where the broker creates topics on first use (Tansu does).
    """
    known = set(await admin.list_topics())
    present = [name for name in topics if name in known]
    differences = [
        f"{name}: missing (run `progressctl topics create`)" for name in topics if name not in known
    ]
    described = (
        {item["topic"]: item for item in await admin.describe_topics(present)} if present else {}
    )
    for name in present:
        differences.extend(_shape_differences(name, described[name]["partitions"], settings))
    if CHANGES_TOPIC in present and EVENTS_TOPIC in present:
        events, changes = (len(described[n]["partitions"]) for n in (EVENTS_TOPIC, CHANGES_TOPIC))
        if events != changes:
            differences.append(
                f"{CHANGES_TOPIC}: {changes} partitions, expected as many as {EVENTS_TOPIC} "
                f"({events}; run `progressctl topics grow --partitions {max(events, changes)}`)"
            )
    if present:
        configs = await _configs(admin, present)
        wanted = topic_configs(settings.kafka_min_insync_replicas)
        for name in present:
            differences.extend(_config_differences(name, configs.get(name, {}), wanted))
    return differences


def _shape_differences(
    name: str, partitions: list[dict[str, Any]], settings: Settings
) -> list[str]:
    differences: list[str] = []
    if len(partitions) < settings.kafka_partitions:
        differences.append(
            f"{name}: {len(partitions)} partitions, expected at least "
            f"PROGRESS_KAFKA_PARTITIONS={settings.kafka_partitions} "
            f"(run `progressctl topics grow --partitions {settings.kafka_partitions}`)"
        )
    replicas = min(len(partition["replicas"]) for partition in partitions)
    if replicas != settings.kafka_replication_factor:
        differences.append(
            f"{name}: replication factor {replicas}, expected "
            f"PROGRESS_KAFKA_REPLICATION_FACTOR={settings.kafka_replication_factor}"
        )
    return differences


def _config_differences(
    name: str, actual: Mapping[str, str], wanted: Mapping[str, str]
) -> list[str]:
    differences: list[str] = []
    for key, value in wanted.items():
        found = actual.get(key)
        if found == value or (key in _AT_LEAST and found is not None and _at_least(found, value)):
            continue
        differences.append(
            f"{name}: {key}={found if found is not None else '(unset)'}, expected {value}"
        )
    return differences


def _at_least(found: str, wanted: str) -> bool:
    """True when `found` is as good as `wanted` (-1 is "forever" for a retention)."""
    try:
        number = int(found)
    except ValueError:
        return False
    return number == -1 or number >= int(wanted)


async def _partition_counts(admin: AIOKafkaAdminClient, topics: tuple[str, ...]) -> dict[str, int]:
    described = await admin.describe_topics(list(topics))
    return {item["topic"]: len(item["partitions"]) for item in described}


async def _configs(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, dict[str, str]]:
    """Each topic's settings as the broker reports them (name → value)."""
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics]
    )
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for _code, _message, _type, name, entries, *_ in response.resources:
            configs[name] = {entry[0]: entry[1] for entry in entries if entry[1] is not None}
    return configs


def _refuse(differences: list[str]) -> None:
    if differences:
        raise TopicsMisconfigured(
            "the Kafka topics differ from the settings: " + "; ".join(differences)
        )
