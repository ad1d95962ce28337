"""The insights consumer's composition root: a FastStream batch consumer plus the ops endpoints.

It follows `progress.changes` in its own group (`PROGRESS_INSIGHTS_GROUP`), so it scales as
the projector does: one process per few partitions, the same learner always in one.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import FastAPI
from faststream import Context
from faststream.kafka.annotations import KafkaMessage

from services.consumer_bootstrap import CONSUMER, ConsumerBroker, ConsumerParts, consumer_app
from services.insights.course_gauges import CourseGaugeRefresher, CourseGauges
from shared.adapters.insight_store import mongo_insights
from shared.adapters.kafka_consuming import consume_message
from shared.adapters.metrics import INSIGHTS_COURSE_LEARNERS
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.adapters.settings import Settings
from shared.adapters.topics import CHANGES_TOPIC
from shared.service_layer.insight_following import InsightsFollower

__all__ = ["InsightsBroker", "create_app", "declare_broker"]


class InsightsBroker(ConsumerBroker):
    """The insights consumer's broker with its subscriber declared, not connected.

    Its batches go through the same ownership and liveness checks as the projector's.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "insights")

        @self.subscriber(
            CHANGES_TOPIC,
            group_id=settings.insights_group,
            title="insights",
            description="Recounts each announced learner's contribution to the course insights.",
            batch=True,
            max_records=settings.insights_batch_max,
            batch_timeout_ms=settings.insights_batch_timeout_ms,
            fetch_max_wait_ms=settings.insights_batch_timeout_ms,
        )
        async def follow_changes(
            body: list[bytes],
            message: KafkaMessage,
            follower: Annotated[InsightsFollower, Context(CONSUMER)],
        ) -> None:
            started = time.perf_counter()
            outcome = await consume_message(self.loop, follower, message)
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

    def build(parts: ConsumerParts) -> InsightsFollower:
        """Follow changes into the insight store; refresh the chosen courses' gauges beside."""
        insights = mongo_insights(parts.db)
        if settings.insights_metric_courses:
            refresher = CourseGaugeRefresher(
                insights, CourseGauges(INSIGHTS_COURSE_LEARNERS), settings.insights_metric_courses
            )
            parts.background(
                refresher.run(settings.insights_metric_refresh_seconds), "course-gauges"
            )
        return InsightsFollower(insights)

    return consumer_app("Progress Sync insights", settings, declare_broker(settings), build)
