"""Wiring of parking for the embedded stack: which topics, which groups, which stores.

The embedded broker keeps messages in memory, so `progressctl run` parks what its
consumers have not consumed in MongoDB before the broker stops, and re-publishes it at
the next start (the use cases are in `shared.service_layer.parking`).
"""

from __future__ import annotations

from shared.adapters.connections import connections
from shared.adapters.kafka_backlog import topic_backlog
from shared.adapters.parked_store import MongoParkedMessages
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC, tier_group, tier_topic
from shared.service_layer.parking import park_unconsumed, republish_parked
from shared.service_layer.retry_schedule import RETRY_TIERS

__all__ = ["park_stack", "parked_sources", "unpark_stack"]


def parked_sources(settings: Settings) -> list[tuple[str, str]]:
    """(topic, consumer group) pairs whose unconsumed messages are kept across a stop.

    The events topic (what the projector has not committed) and every retry tier (what its
    worker holds until due). The dead-letter topic is not among them: the `dead_letters`
    collection is the record of every letter already.
    """
    tiers = [(tier_topic(tier), tier_group(tier)) for tier in RETRY_TIERS]
    return [(EVENTS_TOPIC, settings.projector_group), *tiers]


async def park_stack(settings: Settings) -> int:
    """Park every unconsumed message of `parked_sources`; the consumers must have stopped."""
    async with connections(settings) as opened, topic_backlog(settings) as backlog:
        return await park_unconsumed(
            backlog, MongoParkedMessages(opened.db), parked_sources(settings)
        )


async def unpark_stack(settings: Settings) -> int:
    """Re-publish every parked message onto its topic (after the topics were created)."""
    async with connections(settings) as opened, topic_backlog(settings) as backlog:
        return await republish_parked(backlog, MongoParkedMessages(opened.db))
