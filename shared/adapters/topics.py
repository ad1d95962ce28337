"""The Kafka topics of Progress Sync."""

from __future__ import annotations

from shared.service_layer.retry_schedule import RETRY_TIERS, RetryTier

__all__ = [
    "ALL_TOPICS",
    "CHANGES_RETENTION_MS",
    "CHANGES_TOPIC",
    "DLQ_TOPIC",
    "EVENTS_TOPIC",
    "RETRY_GROUP",
    "TIER_TOPICS",
    "TOPIC_CONFIGS",
    "tier_group",
    "tier_topic",
]

EVENTS_TOPIC = "progress.events"
DLQ_TOPIC = "progress.events.dlq"
CHANGES_TOPIC = "progress.changes"
"""Committed snapshot changes, keyed tenantId/userId (see `service_layer.changes`)."""
CHANGES_RETENTION_MS = 7 * 24 * 3600 * 1000
"""A follower that was down for up to a week still finds every change it missed."""
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

TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    CHANGES_TOPIC: {"retention.ms": str(CHANGES_RETENTION_MS)},
}
"""Topic settings beyond the broker's defaults, given when a topic is created."""
