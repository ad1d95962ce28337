"""The projector's composition root: a FastStream batch consumer plus the ops endpoints."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.projector.metrics import count_report
from shared.adapters.dead_letters import MongoDeadLetterStore
from shared.adapters.delivery import DeliveryProjector
from shared.adapters.event_log import MongoEventLog
from shared.adapters.failure_routing import FailureRouter
from shared.adapters.kafka import kafka_broker
from shared.adapters.logs import get_logger
from shared.adapters.mongo import ensure_indexes, mongo_client
from shared.adapters.ops_http import dependency_checks, ops_router
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.topics import EVENTS_TOPIC
from shared.service_layer.projection import Projection

__all__ = ["ProjectorOverrides", "create_app"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ProjectorOverrides:
    """Test seams: replace the projection (e.g. with one that fails on purpose)."""

    projection: Projection | None = None


async def _raw_bodies(message: object) -> object:
    """Keep message bodies as bytes: decoding is the handler's job, per message."""
    return getattr(message, "body", None)


def create_app(settings: Settings, overrides: ProjectorOverrides | None = None) -> FastAPI:
    """Build the projector; it connects only when the ASGI lifespan starts."""
    overrides = overrides or ProjectorOverrides()
    client = mongo_client(settings)
    db = client[settings.mongo_database]
    broker: KafkaBroker = kafka_broker(settings, client_id="progress-projector", consumer=True)
    projection = overrides.projection or Projection(MongoEventLog(db), MongoSnapshotStore(db))
    deliveries = DeliveryProjector(projection, FailureRouter(broker, MongoDeadLetterStore(db)))

    # A fetch returns once 64 KiB (~150 events) are there or the batch timeout passed: under
    # light load a batch gathers up to that long (each batch costs two write commands, so
    # this is what coalesces heartbeats), and never longer (aiokafka's default fetch wait,
    # 500 ms, which Tansu holds in full, made events ~130 ms (p50) older on arrival).
    @broker.subscriber(
        EVENTS_TOPIC,
        group_id=settings.projector_group,
        batch=True,
        max_records=settings.projector_batch_max,
        batch_timeout_ms=settings.projector_batch_timeout_ms,
        fetch_max_wait_ms=settings.projector_batch_timeout_ms,
        fetch_min_bytes=64 * 1024,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        max_poll_interval_ms=300_000,
        decoder=_raw_bodies,
        title="projector",
        description="Stores each event once in the log and updates the user's snapshot.",
    )
    async def project_batch(body: list[bytes], message: KafkaMessage) -> None:
        started = time.perf_counter()
        report = await deliveries.handle(message)
        if report is not None:
            count_report(report, time.perf_counter() - started)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ensure_indexes(db)
        await broker.start()
        log.info("projector_started", group=settings.projector_group)
        try:
            yield
        finally:
            await broker.stop()
            await client.close()

    app = FastAPI(title="Progress Sync projector", lifespan=lifespan)
    app.state.broker = broker
    app.include_router(ops_router(dependency_checks(broker, db)))
    return app
