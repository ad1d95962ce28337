"""How what the use cases did is counted: one port for every outcome a metric counts.

The use cases return outcomes (a batch's, a write's); whoever runs one hands the outcome to
this port, and the consume use case counts its own batches through it. The Prometheus adapter
(`shared.adapters.outcome_metrics`) keeps the metric names docs/metrics.md lists; tests use a
recording fake (`tests.fakes.RecordingMetrics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shared.service_layer.consume import BatchOutcome
    from shared.service_layer.insight_following import ChangesFollowed

__all__ = ["Metrics"]


class Metrics(Protocol):
    """Counts outcomes; never raises, never blocks."""

    def batch_consumed(self, outcome: BatchOutcome) -> None:
        """A batch the consume use case handled: its failed messages by route, or an outage."""
        ...

    def batch_projected(self, outcome: BatchOutcome, batch_seconds: float) -> None:
        """A projector batch: events by outcome, batch time, receivedAt → written lag, replays."""
        ...

    def delivery_retried(
        self, tier: str, outcome: BatchOutcome, seconds_in_retry: float | None
    ) -> None:
        """A retry tier's delivery: applied or failed again, and (applied) its time in retry."""
        ...

    def changes_followed(
        self, outcome: ChangesFollowed, batch_seconds: float, announced_ms: Sequence[int]
    ) -> None:
        """A batch of change announcements the insights consumer followed, and their lag."""
        ...

    def events_answered(self, outcome: str, type_names: Iterable[str | None]) -> None:
        """Events the gateway answered for (`accepted`, `rejected`, `unavailable`) by type."""
        ...
