"""Counting what the projector did with each batch."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.adapters.metrics import (
    PROJECTOR_BATCH_SECONDS,
    PROJECTOR_EVENTS,
    PROJECTOR_LAG_SECONDS,
    PROJECTOR_OUTAGES,
    PROJECTOR_REPLAY_SECONDS,
    PROJECTOR_REPLAYS,
    count_routed,
)
from shared.service_layer.consume import BatchOutcome

__all__ = ["count_outcome"]


def count_outcome(outcome: BatchOutcome, batch_seconds: float) -> None:
    """Outcome counters, batch time, receivedAt → snapshot-written lag, replays, routing."""
    count_routed(outcome.routed)
    report = outcome.report
    if report is None:
        PROJECTOR_OUTAGES.inc()
        return
    now = datetime.now(UTC)
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
