"""The projector's composition root: a FastStream batch consumer plus the ops endpoints."""

from __future__ import annotations

import time
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
from services.projector.catalog_worker import catalog_job_runner, serve_catalog_jobs
from shared.adapters.insight_store import mongo_insights
from shared.adapters.kafka_consuming import consume_message
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.adapters.settings import Settings
from shared.adapters.snapshot_cache import CachedSnapshots
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.topics import EVENTS_TOPIC
from shared.service_layer.consume import BatchConsumer
from shared.service_layer.insights import InsightsStep

__all__ = ["ProjectorBroker", "create_app", "declare_broker"]


class ProjectorBroker(ProjectingBroker):
    """The projector's broker with its subscriber and failure routes declared, not connected."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "projector")

        # A fetch returns once 64 KiB (~150 events) are there or the batch timeout passed:
        # under light load a batch gathers up to that long (each batch costs two write
        # commands, so this is what coalesces heartbeats), and never longer (aiokafka's
        # default fetch wait, 500 ms, which Tansu holds in full, made events ~130 ms (p50)
        # older on arrival).
        @self.subscriber(
            EVENTS_TOPIC,
            group_id=settings.projector_group,
            title="projector",
            description="Stores each event once in the log and updates the user's snapshot.",
            batch=True,
            max_records=settings.projector_batch_max,
            batch_timeout_ms=settings.projector_batch_timeout_ms,
            fetch_max_wait_ms=settings.projector_batch_timeout_ms,
            fetch_min_bytes=64 * 1024,
        )
        async def project_batch(
            body: list[bytes],
            message: KafkaMessage,
            consumer: Annotated[BatchConsumer, Context(CONSUMER)],
        ) -> None:
            started = time.perf_counter()
            outcome = await consume_message(self.loop, consumer, message)
            if outcome is not None:
                PROMETHEUS_METRICS.batch_projected(outcome, time.perf_counter() - started)


def declare_broker(settings: Settings) -> ProjectorBroker:
    """The projector's broker, declared (for the app, and for the AsyncAPI document)."""
    return ProjectorBroker(settings)


def create_app(settings: Settings, overrides: ProjectionOverrides | None = None) -> FastAPI:
    """Build the projector; it connects only when the ASGI lifespan starts."""
    make_projection = (overrides or ProjectionOverrides()).projection
    declared = declare_broker(settings)

    def build(parts: ConsumerParts) -> BatchConsumer:
        """Project through a snapshot cache; run the catalog jobs beside the consumer."""
        cache = settings.projector_snapshot_cache_mib * 2**20
        snapshots = CachedSnapshots(MongoSnapshotStore(parts.db), cache)
        jobs = catalog_job_runner(parts.db, settings, (InsightsStep(mongo_insights(parts.db)),))
        parts.background(
            serve_catalog_jobs(jobs, settings.catalog_job_poll_ms / 1000), "catalog-jobs"
        )
        return parts.batch_consumer(declared, parts.projection(make_projection, snapshots))

    return consumer_app("Progress Sync projector", settings, declared, build)
