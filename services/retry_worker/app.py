"""The retry worker's composition root: one consumer per retry tier, plus ops endpoints."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import FastAPI
from faststream import Context
from faststream.kafka.annotations import KafkaMessage

from services.consumer_bootstrap import (
    CONSUMER,
    ConsumerParts,
    ProjectingBroker,
    ProjectionOverrides,
    consumer_app,
)
from services.retry_worker.tiers import TierHandler
from shared.adapters.clock import SystemClock
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.logs import get_logger
from shared.adapters.metrics import DLQ_SIZE
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.adapters.settings import Settings
from shared.adapters.topics import tier_group, tier_topic
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.dead_letter_records import PENDING, LetterFilter
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.ports import DeadLetterStore
from shared.service_layer.retry_schedule import RETRY_TIERS, RetryTier

__all__ = ["RetryWorkerBroker", "create_app", "declare_broker"]

log = get_logger(__name__)
_DLQ_SIZE_REFRESH_SECONDS = 15.0


class RetryWorkerBroker(ProjectingBroker):
    """The retry worker's broker: one subscriber per tier and the failure routes, declared."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "retry_worker")
        for tier in RETRY_TIERS:
            self._subscribe(
                tier, TierHandler(tier, self.stopping, self.loop, SystemClock(), PROMETHEUS_METRICS)
            )

    def _subscribe(self, tier: RetryTier, handler: TierHandler) -> None:
        @self.subscriber(
            tier_topic(tier),
            group_id=tier_group(tier),
            title=f"retry-{tier.name}",
            description=f"Re-attempts failed events {tier.name} after they failed.",
        )
        async def retry(
            body: bytes,
            message: KafkaMessage,
            consumer: Annotated[BatchConsumer, Context(CONSUMER)],
        ) -> None:
            await handler.handle(message, consumer)


def declare_broker(settings: Settings) -> RetryWorkerBroker:
    """The retry worker's broker, declared (for the app, and for the AsyncAPI document)."""
    return RetryWorkerBroker(settings)


async def _refresh_dlq_size(letters: DeadLetterStore) -> None:
    """Keep `progress_dlq_size` current: letters awaiting an operator (not yet replayed).

    The collection is the truth, shared by all workers and the projectors.
    """
    pending = LetterFilter(state=PENDING)
    while True:
        try:
            DLQ_SIZE.set(await letters.count(pending))
        except StoreUnavailable:
            log.warning("dlq_size_unavailable")
        await asyncio.sleep(_DLQ_SIZE_REFRESH_SECONDS)


def create_app(settings: Settings, overrides: ProjectionOverrides | None = None) -> FastAPI:
    """Build the retry worker; it connects only when the ASGI lifespan starts.

    On shutdown a held message is let go uncommitted rather than waited out.
    """
    make_projection = (overrides or ProjectionOverrides()).projection
    declared = declare_broker(settings)

    def build(parts: ConsumerParts) -> BatchConsumer:
        """Project as the projector does; keep the dead-letter gauge current beside it."""
        parts.background(_refresh_dlq_size(MongoDeadLetterStore(parts.db)), "dlq-size")
        return parts.batch_consumer(declared, parts.projection(make_projection))

    return consumer_app("Progress Sync retry worker", settings, declared, build)
