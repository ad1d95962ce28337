"""The retry worker's handler: hold a message until due, re-project it, route what fails."""

from __future__ import annotations

import asyncio
from datetime import datetime

from faststream.kafka.message import KafkaMessage

from shared.adapters.kafka_consuming import ConsumerLoop, consume_message, records_of
from shared.adapters.logs import get_logger
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.deliveries import Delivery
from shared.service_layer.ports import Clock, Metrics
from shared.service_layer.retry_schedule import RetryTier

__all__ = ["TierHandler"]

log = get_logger(__name__)


class TierHandler:
    """One per tier, each on its own consumer, so a long tier never holds up a short one.

    Messages in a tier are due in the order they were written, so sleeping until the head
    is due holds up nothing that could have run sooner; sleeping does not spin the CPU.
    A held message is not committed: if the process dies, the next consumer holds it again
    until the same due time.
    """

    def __init__(
        self,
        tier: RetryTier,
        stopping: asyncio.Event,
        loop: ConsumerLoop,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._tier = tier
        self._clock = clock
        self._metrics = metrics
        self._stopping = stopping
        self._loop = loop

    async def handle(self, message: KafkaMessage, consumer: BatchConsumer) -> None:
        """Wait for the message's due time, then project it through `consumer` (the projector's).

        On shutdown a held message is let go uncommitted (it comes back to the next
        consumer), so stopping never waits out a 60 s tier.
        """
        (record,) = records_of(message)
        delivery = Delivery.from_record(record)
        if not await self._hold(delivery.due_at):
            log.info(
                "retry_released_for_shutdown",
                tier=self._tier.name,
                partition=record.partition,
                offset=record.offset,
            )
            return
        outcome = await consume_message(self._loop, consumer, message)
        if outcome is None:  # its partition was revoked while it was held
            return
        in_retry = (self._clock.now() - delivery.attempts[0].at) if delivery.attempts else None
        self._metrics.delivery_retried(
            self._tier.name, outcome, None if in_retry is None else in_retry.total_seconds()
        )

    async def _hold(self, due_at: datetime | None) -> bool:
        """Sleep until `due_at`; False if the worker began stopping first."""
        if self._stopping.is_set():
            return False
        wait = (due_at - self._clock.now()).total_seconds() if due_at else 0.0
        if wait <= 0:
            return True
        try:
            await asyncio.wait_for(self._stopping.wait(), wait)
        except TimeoutError:
            return True
        return False
