"""The insights consumer's composition root: a FastStream batch consumer plus the ops endpoints.

It follows `progress.changes` in its own group (`PROGRESS_INSIGHTS_GROUP`), so it scales as
the projector does: one process per few partitions, the same learner always in one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.insights.course_gauges import CourseGaugeRefresher, CourseGauges
from shared.adapters.connections import connections
from shared.adapters.insight_store import mongo_insights
from shared.adapters.kafka import kafka_broker
from shared.adapters.kafka_consuming import ConsumerLoop, consume_message, loop_options, raw_bodies
from shared.adapters.logs import get_logger
from shared.adapters.metrics import INSIGHTS_COURSE_LEARNERS
from shared.adapters.ops_http import ReadinessCheck, dependency_checks, ops_router
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.adapters.settings import Settings
from shared.adapters.topics import CHANGES_TOPIC
from shared.service_layer.insight_following import InsightsFollower

__all__ = ["InsightsBroker", "create_app", "declare_broker"]

log = get_logger(__name__)


class InsightsBroker:
    """The insights consumer's broker with its subscriber declared, not connected.

    The AsyncAPI generator reads it as is; the app sets `follower` before starting it.
    Its batches go through the same ownership and liveness checks as the projector's.
    """

    def __init__(self, settings: Settings) -> None:
        self.broker: KafkaBroker = kafka_broker(
            settings, client_id="progress-insights", consumer=True
        )
        self.follower: InsightsFollower | None = None
        self.loop = ConsumerLoop.of("insights", settings)

        @self.broker.subscriber(
            CHANGES_TOPIC,
            group_id=settings.insights_group,
            batch=True,
            max_records=settings.insights_batch_max,
            batch_timeout_ms=settings.insights_batch_timeout_ms,
            fetch_max_wait_ms=settings.insights_batch_timeout_ms,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=raw_bodies,
            title="insights",
            description="Recounts each announced learner's contribution to the course insights.",
            **loop_options(settings, self.loop),
        )
        async def follow_changes(body: list[bytes], message: KafkaMessage) -> None:
            assert self.follower is not None, "the broker starts only once the follower is set"
            started = time.perf_counter()
            outcome = await consume_message(self.loop, self.follower, message)
            if outcome is None:
                return
            raw = message.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            PROMETHEUS_METRICS.changes_followed(
                outcome, time.perf_counter() - started, [r.timestamp for r in records]
            )


def declare_broker(settings: Settings) -> InsightsBroker:
    """The insights consumer's broker, declared (for the app, and for the AsyncAPI document)."""
    return InsightsBroker(settings)


def create_app(settings: Settings) -> FastAPI:
    """Build the insights consumer; it connects only when the ASGI lifespan starts."""
    declared = declare_broker(settings)
    broker = declared.broker
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connections(settings, broker) as opened:
            db = opened.db
            checks.update(dependency_checks(broker, db))
            insights = mongo_insights(db)
            declared.follower = InsightsFollower(insights)
            await broker.start()
            log.info("insights_started", group=settings.insights_group)
            gauges = None
            if settings.insights_metric_courses:
                refresher = CourseGaugeRefresher(
                    insights,
                    CourseGauges(INSIGHTS_COURSE_LEARNERS),
                    settings.insights_metric_courses,
                )
                gauges = asyncio.create_task(
                    refresher.run(settings.insights_metric_refresh_seconds)
                )
            try:
                yield
            finally:
                if gauges is not None:
                    gauges.cancel()

    app = FastAPI(title="Progress Sync insights", lifespan=lifespan)
    app.include_router(ops_router(checks, declared.loop))
    return app
