"""The Prometheus adapter of the metrics port counts each outcome under docs/metrics.md's names."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import REGISTRY

from shared.adapters.outcome_metrics import PrometheusMetrics
from shared.domain import RecordedEvent
from shared.service_layer.consume import BatchOutcome
from shared.service_layer.failure_routing import Routed
from shared.service_layer.insight_following import ChangesFollowed
from shared.service_layer.ports import Metrics
from shared.service_layer.projection_report import ProjectionReport
from tests.fakes import RecordingMetrics
from tests.unit.domain.builders import raw_event, record


def applied_event() -> RecordedEvent:
    payload = {"contentId": "c1", "status": "completed"}
    return record(raw_event("content.progressed", "2026-11-20T10:00:00Z", payload))


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_both_implementations_are_the_port() -> None:
    ports: list[Metrics] = [PrometheusMetrics(), RecordingMetrics()]
    assert len(ports) == 2


def test_a_consumed_batch_counts_its_routes_and_a_rewind_counts_an_outage() -> None:
    metrics = PrometheusMetrics()
    scheduled = sample("progress_retry_events_total", tier="1s", outcome="scheduled")
    dead = sample("progress_dlq_events_total", reason="undecodable")
    outages = sample("progress_projector_outages_total")
    routed = [Routed("retry", "1s"), Routed("dead_letter", "undecodable")]
    metrics.batch_consumed(BatchOutcome(ack=True, report=ProjectionReport(), routed=routed))
    metrics.batch_consumed(BatchOutcome(ack=False))
    assert sample("progress_retry_events_total", tier="1s", outcome="scheduled") == scheduled + 1
    assert sample("progress_dlq_events_total", reason="undecodable") == dead + 1
    assert sample("progress_projector_outages_total") == outages + 1


def test_a_projected_batch_and_a_retried_delivery_count_their_events() -> None:
    metrics = PrometheusMetrics()
    report = ProjectionReport(applied=[applied_event()], duplicates=2)
    applied = sample("progress_projector_events_total", outcome="applied")
    duplicates = sample("progress_projector_events_total", outcome="duplicate")
    retried = sample("progress_retry_events_total", tier="5s", outcome="applied")
    metrics.batch_projected(BatchOutcome(ack=True, report=report), 0.01)
    metrics.delivery_retried("5s", BatchOutcome(ack=True, report=report), 6.0)
    assert sample("progress_projector_events_total", outcome="applied") == applied + 1
    assert sample("progress_projector_events_total", outcome="duplicate") == duplicates + 2
    assert sample("progress_retry_events_total", tier="5s", outcome="applied") == retried + 1


def test_followed_changes_and_answered_events_are_counted() -> None:
    metrics = PrometheusMetrics()
    handled = sample("progress_insights_changes_total", outcome="handled")
    unknown = sample("progress_gateway_events_total", outcome="rejected", type="unknown")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    metrics.changes_followed(ChangesFollowed(ack=True, handled=3), 0.01, [now_ms])
    metrics.events_answered("rejected", ["no.such.type", None])
    assert sample("progress_insights_changes_total", outcome="handled") == handled + 3
    assert sample("progress_gateway_events_total", outcome="rejected", type="unknown") == (
        unknown + 2
    )
