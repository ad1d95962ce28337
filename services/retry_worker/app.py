"""The retry worker's composition root: one consumer per retry tier, plus ops endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.retry_worker.tiers import TierHandler
from shared.adapters.change_publishing import KafkaChangeAnnouncer, changes_publisher
from shared.adapters.checkpoint_store import MongoSnapshotCheckpoints
from shared.adapters.clock import SystemClock
from shared.adapters.connections import connections
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.kafka import kafka_broker
from shared.adapters.kafka_consuming import ConsumerLoop, loop_options, raw_bodies
from shared.adapters.kafka_publishing import KafkaRetryRoutes
from shared.adapters.logs import get_logger
from shared.adapters.metrics import DLQ_SIZE
from shared.adapters.ops_http import ReadinessCheck, dependency_checks, ops_router
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.topics import tier_group, tier_topic
from shared.adapters.user_data_store import MongoUserDataStore
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.dead_letter_records import PENDING, LetterFilter
from shared.service_layer.erasure import Erasure
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.failure_routing import FailureRouter
from shared.service_layer.ports import DeadLetterStore
from shared.service_layer.projection import Projection
from shared.service_layer.retry_schedule import RETRY_TIERS, RetryTier

__all__ = ["RetryWorkerBroker", "RetryWorkerOverrides", "create_app", "declare_broker"]

log = get_logger(__name__)
_DLQ_SIZE_REFRESH_SECONDS = 15.0

ProjectionFactory = Callable[..., Projection]
"""Builds the projection from keyword parts: events, snapshots, erasure, quotas, checkpoints,
changes."""


@dataclass(frozen=True, slots=True)
class RetryWorkerOverrides:
    """Test seams: build the projection differently (e.g. one that fails on purpose)."""

    projection: ProjectionFactory | None = None


class RetryWorkerBroker:
    """The retry worker's broker: one subscriber per tier and the failure routes, declared.

    The AsyncAPI generator reads it as is; the app sets the handlers' consumer before
    starting it.
    """

    def __init__(self, settings: Settings) -> None:
        self.broker: KafkaBroker = kafka_broker(
            settings, client_id="progress-retry-worker", consumer=True
        )
        self.routes = KafkaRetryRoutes(self.broker)
        changes_publisher(self.broker)
        self.stopping = asyncio.Event()
        self.loop = ConsumerLoop.of("retry_worker", settings)
        self.handlers = [
            TierHandler(tier, self.stopping, self.loop, SystemClock(), PROMETHEUS_METRICS)
            for tier in RETRY_TIERS
        ]
        for tier, handler in zip(RETRY_TIERS, self.handlers, strict=True):
            self._subscribe(tier, handler, settings)

    def _subscribe(self, tier: RetryTier, handler: TierHandler, settings: Settings) -> None:
        @self.broker.subscriber(
            tier_topic(tier),
            group_id=tier_group(tier),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=raw_bodies,
            title=f"retry-{tier.name}",
            description=f"Re-attempts failed events {tier.name} after they failed.",
            **loop_options(settings, self.loop),
        )
        async def retry(body: bytes, message: KafkaMessage) -> None:
            await handler.handle(message)

    def use(self, consumer: BatchConsumer) -> None:
        """Give every tier's handler the consumer it projects through."""
        for handler in self.handlers:
            handler.consumer = consumer


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


def create_app(settings: Settings, overrides: RetryWorkerOverrides | None = None) -> FastAPI:
    """Build the retry worker; it connects only when the ASGI lifespan starts."""
    make_projection = (overrides or RetryWorkerOverrides()).projection or Projection
    declared = declare_broker(settings)
    broker = declared.broker
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connections(settings, broker) as opened:
            db = opened.db
            checks.update(dependency_checks(broker, db))
            letters = MongoDeadLetterStore(db)
            erasure = Erasure(
                MongoTombstoneStore(db, settings.erasure_secrets),
                MongoUserDataStore(db),
            )
            projection = make_projection(
                events=MongoEventLog(db, settings.log_hole_bound),
                snapshots=MongoSnapshotStore(db),
                erasure=erasure,
                quotas=settings.quotas,
                checkpoints=MongoSnapshotCheckpoints(db),
                changes=KafkaChangeAnnouncer(broker, settings, "retry_worker"),
            )
            router = FailureRouter(declared.routes, letters, SystemClock())
            declared.use(BatchConsumer(projection, router, PROMETHEUS_METRICS))
            await broker.start()
            log.info("retry_worker_started", tiers=[tier.name for tier in RETRY_TIERS])
            gauge = asyncio.create_task(_refresh_dlq_size(letters))
            try:
                yield
            finally:
                gauge.cancel()
                declared.stopping.set()  # let held messages go uncommitted, not wait them out

    app = FastAPI(title="Progress Sync retry worker", lifespan=lifespan)
    app.include_router(ops_router(checks, declared.loop))
    return app
