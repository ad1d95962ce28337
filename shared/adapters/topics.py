"""The Kafka topics of Progress Sync and the message conventions on them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALL_TOPICS",
    "DLQ_TOPIC",
    "EVENTS_TOPIC",
    "RETRY_TIERS",
    "SCHEMA_VERSION",
    "RetryTier",
    "message_key",
]

EVENTS_TOPIC = "progress.events"
DLQ_TOPIC = "progress.events.dlq"
SCHEMA_VERSION = "1"


@dataclass(frozen=True, slots=True)
class RetryTier:
    """One step of the retry schedule: failed events wait `delay_seconds` in `topic`."""

    name: str
    delay_seconds: float

    @property
    def topic(self) -> str:
        """The tier's topic, e.g. `progress.events.retry.5s`."""
        return f"{EVENTS_TOPIC}.retry.{self.name}"


RETRY_TIERS: tuple[RetryTier, ...] = (
    RetryTier("1s", 1.0),
    RetryTier("5s", 5.0),
    RetryTier("15s", 15.0),
    RetryTier("60s", 60.0),
)

ALL_TOPICS: tuple[str, ...] = (EVENTS_TOPIC, *(tier.topic for tier in RETRY_TIERS), DLQ_TOPIC)


def message_key(tenant_id: str, user_id: str) -> bytes:
    """The partition key that keeps one user's events in one partition, in order."""
    return f"{tenant_id}/{user_id}".encode()
