"""The `Metrics` port on Prometheus: each outcome counted under docs/metrics.md's names."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from shared.adapters.metrics import (
    DLQ_EVENTS,
    GATEWAY_EVENTS,
    INSIGHTS_BATCH_SECONDS,
    INSIGHTS_CHANGES,
    INSIGHTS_LAG_SECONDS,
    INSIGHTS_LEARNERS_CHANGED,
    PROJECTOR_BATCH_SECONDS,
    PROJECTOR_EVENTS,
    PROJECTOR_LAG_SECONDS,
    PROJECTOR_OUTAGES,
    PROJECTOR_REPLAY_SECONDS,
    PROJECTOR_REPLAYS,
    RETRY_DELAY_SECONDS,
    RETRY_EVENTS,
)
from shared.domain import EVENT_TYPES
from shared.service_layer.consume import BatchOutcome
from shared.service_layer.insight_following import ChangesFollowed

__all__ = ["PROMETHEUS_METRICS", "PrometheusMetrics"]


class PrometheusMetrics:
    """Counts outcomes into the process's Prometheus registry (served on /metrics)."""

    def batch_consumed(self, outcome: BatchOutcome) -> None:
        """Failed messages by where they went (a retry tier, the dead letters); an outage."""
        if outcome.report is None:
            PROJECTOR_OUTAGES.inc()
        for item in outcome.routed:
            if item.kind == "retry":
                RETRY_EVENTS.labels(item.label, "scheduled").inc()
                continue
            DLQ_EVENTS.labels(item.label).inc()
            if item.seconds_in_retry is not None:
                RETRY_DELAY_SECONDS.labels("dead_lettered").observe(item.seconds_in_retry)

    def batch_projected(self, outcome: BatchOutcome, batch_seconds: float) -> None:
        """Outcome counters, batch time, receivedAt → snapshot-written lag, replays."""
        report = outcome.report
        if report is None:
            return
        now = datetime.now(UTC)  # a measurement against the gateway's receivedAt
        PROJECTOR_BATCH_SECONDS.observe(batch_seconds)
        PROJECTOR_EVENTS.labels("applied").inc(len(report.applied))
        PROJECTOR_EVENTS.labels("duplicate").inc(report.duplicates)
        PROJECTOR_EVENTS.labels("conflict").inc(report.conflicts)
        PROJECTOR_EVENTS.labels("failed").inc(len(report.failed) + len(report.refused))
        PROJECTOR_EVENTS.labels("erased").inc(report.erased)
        for event in report.applied:
            PROJECTOR_LAG_SECONDS.observe(max(0.0, (now - event.received_at).total_seconds()))
        for seconds in report.replays:
            PROJECTOR_REPLAYS.inc()
            PROJECTOR_REPLAY_SECONDS.observe(seconds)

    def delivery_retried(
        self, tier: str, outcome: BatchOutcome, seconds_in_retry: float | None
    ) -> None:
        """Applied when the retry changed something and nothing failed, else failed again."""
        report = outcome.report
        if report is None:
            return
        handled = report.applied or report.duplicates or report.conflicts or report.erased
        if report.failed or report.refused or not handled:
            RETRY_EVENTS.labels(tier, "failed").inc()
            return
        RETRY_EVENTS.labels(tier, "applied").inc()
        if seconds_in_retry is not None:
            RETRY_DELAY_SECONDS.labels("applied").observe(seconds_in_retry)

    def changes_followed(
        self, outcome: ChangesFollowed, batch_seconds: float, announced_ms: Sequence[int]
    ) -> None:
        """Outcome counters, batch time, and announcement → visible lag of each record.

        `announced_ms` are the records' Kafka timestamps (ms since the epoch, set when the
        snapshot writer announced the change).
        """
        if not outcome.ack:
            INSIGHTS_CHANGES.labels("rewound").inc(len(announced_ms))
            return
        INSIGHTS_BATCH_SECONDS.observe(batch_seconds)
        INSIGHTS_CHANGES.labels("handled").inc(outcome.handled)
        INSIGHTS_CHANGES.labels("undecodable").inc(outcome.undecodable)
        INSIGHTS_LEARNERS_CHANGED.inc(outcome.changed)
        now_ms = time.time() * 1000  # a measurement against the broker's timestamps
        for announced in announced_ms:
            INSIGHTS_LAG_SECONDS.observe(max(0.0, (now_ms - announced) / 1000))

    def events_answered(self, outcome: str, type_names: Iterable[str | None]) -> None:
        """By outcome and type; a type the contract does not know is `unknown`."""
        for type_name in type_names:
            GATEWAY_EVENTS.labels(
                outcome, type_name if type_name in EVENT_TYPES else "unknown"
            ).inc()


PROMETHEUS_METRICS = PrometheusMetrics()
"""The one instance every service of a process counts through (it holds no state)."""
