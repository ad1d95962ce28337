"""The Kafka topics of Progress Sync."""

from __future__ import annotations

from shared.service_layer.retry_schedule import RETRY_TIERS, RetryTier

__all__ = [
    "ALL_TOPICS",
    "DLQ_TOPIC",
    "EVENTS_TOPIC",
    "RETRY_GROUP",
    "TIER_TOPICS",
    "tier_group",
    "tier_topic",
]

EVENTS_TOPIC = "progress.events"
DLQ_TOPIC = "progress.events.dlq"
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

ALL_TOPICS: tuple[str, ...] = (EVENTS_TOPIC, *TIER_TOPICS, DLQ_TOPIC)
