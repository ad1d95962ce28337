"""The projector's composition root: a FastStream batch consumer plus the ops endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.projector.catalog_worker import catalog_job_runner, serve_catalog_jobs
from shared.adapters.change_publishing import KafkaChangeAnnouncer, changes_publisher
from shared.adapters.checkpoint_store import MongoSnapshotCheckpoints
from shared.adapters.clock import SystemClock
from shared.adapters.connections import connections
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.insight_store import mongo_insights
from shared.adapters.kafka import kafka_broker
from shared.adapters.kafka_consuming import ConsumerLoop, consume_message, loop_options, raw_bodies
from shared.adapters.kafka_publishing import KafkaRetryRoutes
from shared.adapters.logs import get_logger
from shared.adapters.ops_http import ReadinessCheck, dependency_checks, ops_router
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.adapters.settings import Settings
from shared.adapters.snapshot_cache import CachedSnapshots
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.topics import EVENTS_TOPIC
from shared.adapters.user_data_store import MongoUserDataStore
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.erasure import Erasure
from shared.service_layer.failure_routing import FailureRouter
from shared.service_layer.insights import InsightsStep
from shared.service_layer.projection import Projection

__all__ = ["ProjectorBroker", "ProjectorOverrides", "create_app", "declare_broker"]

log = get_logger(__name__)

ProjectionFactory = Callable[..., Projection]
"""Builds the projection from keyword parts: events, snapshots, erasure, quotas, checkpoints,
changes."""


@dataclass(frozen=True, slots=True)
class ProjectorOverrides:
    """Test seams: build the projection differently (e.g. one that fails on purpose)."""

    projection: ProjectionFactory | None = None


class ProjectorBroker:
    """The projector's broker with its subscriber and failure routes declared, not connected.

    The AsyncAPI generator reads it as is; the app sets `consumer` before starting it.
    """

    def __init__(self, settings: Settings) -> None:
        self.broker: KafkaBroker = kafka_broker(
            settings, client_id="progress-projector", consumer=True
        )
        self.routes = KafkaRetryRoutes(self.broker)
        changes_publisher(self.broker)
        self.consumer: BatchConsumer | None = None
        self.loop = ConsumerLoop.of("projector", settings)

        # A fetch returns once 64 KiB (~150 events) are there or the batch timeout passed:
        # under light load a batch gathers up to that long (each batch costs two write
        # commands, so this is what coalesces heartbeats), and never longer (aiokafka's
        # default fetch wait, 500 ms, which Tansu holds in full, made events ~130 ms (p50)
        # older on arrival).
        @self.broker.subscriber(
            EVENTS_TOPIC,
            group_id=settings.projector_group,
            batch=True,
            max_records=settings.projector_batch_max,
            batch_timeout_ms=settings.projector_batch_timeout_ms,
            fetch_max_wait_ms=settings.projector_batch_timeout_ms,
            fetch_min_bytes=64 * 1024,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=raw_bodies,
            title="projector",
            description="Stores each event once in the log and updates the user's snapshot.",
            **loop_options(settings, self.loop),
        )
        async def project_batch(body: list[bytes], message: KafkaMessage) -> None:
            assert self.consumer is not None, "the broker starts only once the consumer is set"
            started = time.perf_counter()
            outcome = await consume_message(self.loop, self.consumer, message)
            if outcome is not None:
                PROMETHEUS_METRICS.batch_projected(outcome, time.perf_counter() - started)


def declare_broker(settings: Settings) -> ProjectorBroker:
    """The projector's broker, declared (for the app, and for the AsyncAPI document)."""
    return ProjectorBroker(settings)


def create_app(settings: Settings, overrides: ProjectorOverrides | None = None) -> FastAPI:
    """Build the projector; it connects only when the ASGI lifespan starts."""
    make_projection = (overrides or ProjectorOverrides()).projection or Projection
    declared = declare_broker(settings)
    broker = declared.broker
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connections(settings, broker) as opened:
            db = opened.db
            checks.update(dependency_checks(broker, db))
            erasure = Erasure(
                MongoTombstoneStore(db, settings.erasure_secrets),
                MongoUserDataStore(db),
            )
            projection = make_projection(
                events=MongoEventLog(db, settings.log_hole_bound),
                snapshots=CachedSnapshots(
                    MongoSnapshotStore(db), settings.projector_snapshot_cache_mib * 2**20
                ),
                erasure=erasure,
                quotas=settings.quotas,
                checkpoints=MongoSnapshotCheckpoints(db),
                changes=KafkaChangeAnnouncer(broker, settings, "projector"),
            )
            router = FailureRouter(declared.routes, MongoDeadLetterStore(db), SystemClock())
            declared.consumer = BatchConsumer(projection, router, PROMETHEUS_METRICS)
            await broker.start()
            jobs = asyncio.create_task(
                serve_catalog_jobs(
                    catalog_job_runner(db, settings, (InsightsStep(mongo_insights(db)),)),
                    settings.catalog_job_poll_ms / 1000,
                ),
                name="catalog-jobs",
            )
            log.info("projector_started", group=settings.projector_group)
            try:
                yield
            finally:
                jobs.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await jobs

    app = FastAPI(title="Progress Sync projector", lifespan=lifespan)
    app.include_router(ops_router(checks, declared.loop))
    return app
