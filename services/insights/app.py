"""The insights consumer's composition root: a FastStream batch consumer plus the ops endpoints.

It follows `progress.changes` in its own group (`PROGRESS_INSIGHTS_GROUP`), so it scales as
the projector does: one process per few partitions, the same learner always in one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.insights.metrics import count_followed
from shared.adapters.connections import connections
from shared.adapters.insight_store import mongo_insights
from shared.adapters.kafka import kafka_broker
from shared.adapters.kafka_consuming import consume_message, raw_bodies
from shared.adapters.logs import get_logger
from shared.adapters.ops_http import ReadinessCheck, dependency_checks, ops_router
from shared.adapters.settings import Settings
from shared.adapters.topics import CHANGES_TOPIC
from shared.service_layer.insight_following import InsightsFollower

__all__ = ["create_app", "declare_broker"]

log = get_logger(__name__)


def declare_broker(settings: Settings, follower: list[InsightsFollower]) -> KafkaBroker:
    """The consumer's broker with its subscriber declared; `follower` is filled at start-up."""
    broker = kafka_broker(settings, client_id="progress-insights", consumer=True)

    @broker.subscriber(
        CHANGES_TOPIC,
        group_id=settings.insights_group,
        batch=True,
        max_records=settings.insights_batch_max,
        batch_timeout_ms=settings.insights_batch_timeout_ms,
        fetch_max_wait_ms=settings.insights_batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        max_poll_interval_ms=300_000,
        decoder=raw_bodies,
        title="insights",
        description="Recounts each announced learner's contribution to the course insights.",
    )
    async def follow_changes(body: list[bytes], message: KafkaMessage) -> None:
        started = time.perf_counter()
        outcome = await consume_message(follower[0], message)
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        count_followed(outcome, time.perf_counter() - started, [r.timestamp for r in records])

    return broker


def create_app(settings: Settings) -> FastAPI:
    """Build the insights consumer; it connects only when the ASGI lifespan starts."""
    follower: list[InsightsFollower] = []
    broker = declare_broker(settings, follower)
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connections(settings, broker) as opened:
            db = opened.db
            checks.update(dependency_checks(broker, db))
            follower.append(InsightsFollower(mongo_insights(db)))
            await broker.start()
            log.info("insights_started", group=settings.insights_group)
            yield

    app = FastAPI(title="Progress Sync insights", lifespan=lifespan)
    app.include_router(ops_router(checks))
    return app
