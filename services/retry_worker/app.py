"""The retry worker's composition root: one consumer per retry tier, plus ops endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.retry_worker.tiers import TierHandler
from shared.adapters.dead_letters import PENDING, LetterFilter, MongoDeadLetterStore
from shared.adapters.delivery import DeliveryProjector
from shared.adapters.errors import StoreUnavailable
from shared.adapters.event_log import MongoEventLog
from shared.adapters.failure_routing import FailureRouter
from shared.adapters.kafka import kafka_broker
from shared.adapters.logs import get_logger
from shared.adapters.metrics import DLQ_SIZE
from shared.adapters.mongo import ensure_indexes, mongo_client
from shared.adapters.ops_http import dependency_checks, ops_router
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.topics import RETRY_TIERS, RetryTier
from shared.service_layer.projection import Projection

__all__ = ["RetryWorkerOverrides", "create_app"]

log = get_logger(__name__)
RETRY_GROUP = "progress-retry-worker"
_DLQ_SIZE_REFRESH_SECONDS = 15.0
# Longest hold (60 s + 20 % jitter) plus a projection, well inside the poll interval.
_MAX_POLL_INTERVAL_MS = 180_000


@dataclass(frozen=True, slots=True)
class RetryWorkerOverrides:
    """Test seams: replace the projection (e.g. with one that fails on purpose)."""

    projection: Projection | None = None


async def _raw_body(message: object) -> object:
    """Keep the body as bytes: decoding is the projection path's job (undecodable: DLQ).

    Without it FastStream would JSON-decode `application/json` bodies into a dict that the
    `bytes` parameter refuses, and the handler would never run.
    """
    return getattr(message, "body", None)


async def _refresh_dlq_size(letters: MongoDeadLetterStore) -> None:
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


def create_app(settings: Settings, overrides: RetryWorkerOverrides | None = None) -> FastAPI:
    """Build the retry worker; it connects only when the ASGI lifespan starts."""
    overrides = overrides or RetryWorkerOverrides()
    client = mongo_client(settings)
    db = client[settings.mongo_database]
    broker = kafka_broker(settings, client_id="progress-retry-worker", consumer=True)
    letters = MongoDeadLetterStore(db)
    projection = overrides.projection or Projection(MongoEventLog(db), MongoSnapshotStore(db))
    deliveries = DeliveryProjector(projection, FailureRouter(broker, letters))
    stopping = asyncio.Event()

    def subscribe(tier: RetryTier) -> None:
        handler = TierHandler(tier, deliveries, stopping)

        @broker.subscriber(
            tier.topic,
            group_id=f"{RETRY_GROUP}.{tier.name}",
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            max_poll_interval_ms=_MAX_POLL_INTERVAL_MS,
            decoder=_raw_body,
            title=f"retry-{tier.name}",
            description=f"Re-attempts failed events {tier.name} after they failed.",
        )
        async def retry(body: bytes, message: KafkaMessage) -> None:
            await handler.handle(message)

    for tier in RETRY_TIERS:
        subscribe(tier)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ensure_indexes(db)
        await broker.start()
        log.info("retry_worker_started", tiers=[tier.name for tier in RETRY_TIERS])
        gauge = asyncio.create_task(_refresh_dlq_size(letters))
        try:
            yield
        finally:
            gauge.cancel()
            stopping.set()  # let held messages go uncommitted instead of waiting them out
            await broker.stop()
            await client.close()

    app = FastAPI(title="Progress Sync retry worker", lifespan=lifespan)
    app.state.broker = broker
    app.include_router(ops_router(dependency_checks(broker, db)))
    return app
