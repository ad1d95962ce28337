"""The Kafka topics of Progress Sync."""

from __future__ import annotations

from shared.service_layer.retry_schedule import RETRY_TIERS, RetryTier

__all__ = [
    "ALL_TOPICS",
    "CHANGES_TOPIC",
    "DLQ_TOPIC",
    "EVENTS_TOPIC",
    "RETENTION_MS",
    "RETRY_GROUP",
    "TIER_TOPICS",
    "tier_group",
    "tier_topic",
    "topic_configs",
]

EVENTS_TOPIC = "progress.events"
DLQ_TOPIC = "progress.events.dlq"
CHANGES_TOPIC = "progress.changes"
"""Committed snapshot changes, keyed tenantId/userId (see `service_layer.changes`)."""
RETRY_GROUP = "progress-retry-worker"
"""Prefix of the retry workers' consumer groups, one group per tier."""


def tier_topic(tier: RetryTier) -> str:
    """A retry tier's topic, e.g. `progress.events.retry.5s`."""
    return f"{EVENTS_TOPIC}.retry.{tier.name}"


def tier_group(tier: RetryTier) -> str:
    """The consumer group of a retry tier's workers."""
    return f"{RETRY_GROUP}.{tier.name}"


TIER_TOPICS: tuple[str, ...] = tuple(tier_topic(tier) for tier in RETRY_TIERS)
"""The retry tiers' topics, in schedule order."""

ALL_TOPICS: tuple[str, ...] = (EVENTS_TOPIC, *TIER_TOPICS, DLQ_TOPIC, CHANGES_TOPIC)

RETENTION_MS = 7 * 24 * 3600 * 1000
"""How long every topic keeps a message: a consumer group down for up to a week loses
nothing, and the broker's disk stays bounded (a message older than that is deleted)."""


def topic_configs(min_insync_replicas: int) -> dict[str, str]:
    """The settings every topic is created with and verified against at start.

    Given explicitly rather than taken from the broker's defaults: `min.insync.replicas`
    is what makes `acks=all` mean "on that many replicas" (with a replication factor of 3,
    2 keeps a write safe through one broker's loss).
    """
    return {
        "cleanup.policy": "delete",
        "min.insync.replicas": str(min_insync_replicas),
        "retention.ms": str(RETENTION_MS),
    }
