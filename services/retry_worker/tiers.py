"""The retry worker's handler: hold a message until due, re-project it, route what fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from faststream.kafka.message import KafkaMessage

from shared.adapters.delivery import DeliveryProjector, records_of
from shared.adapters.failure_routing import Delivery
from shared.adapters.metrics import RETRY_EVENTS
from shared.adapters.topics import RetryTier

__all__ = ["TierHandler"]


class TierHandler:
    """One per tier, each on its own consumer, so a long tier never holds up a short one.

    Messages in a tier are due in the order they were written, so sleeping until the head
    is due holds up nothing that could have run sooner; sleeping does not spin the CPU.
    """

    def __init__(self, tier: RetryTier, deliveries: DeliveryProjector) -> None:
        self._tier = tier
        self._deliveries = deliveries

    async def handle(self, message: KafkaMessage) -> None:
        """Wait for the message's due time, then project it through the projector's path."""
        (record,) = records_of(message)
        due_at = Delivery.from_record(record).due_at
        if due_at is not None:
            wait = (due_at - datetime.now(UTC)).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
        report = await self._deliveries.handle(message)
        if report is None:
            return
        outcome = "failed" if report.failed else "applied"
        RETRY_EVENTS.labels(self._tier.name, outcome).inc()
