"""Consuming deliveries of events: decode, project, route what failed, then ack or rewind.

The projector (batches from `progress.events`) and the retry worker (one message at a time
from a retry tier) both go through `BatchConsumer`, so a retried event takes exactly the
projector's path: same idempotency, same reducer, same failure routing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from shared.domain import ContractViolation, RecordedEvent
from shared.service_layer.backoff import Backoff
from shared.service_layer.deliveries import ConsumedRecord, Delivery
from shared.service_layer.errors import (
    BrokerUnavailable,
    StoreRejected,
    StoreTimeout,
    StoreUnavailable,
)
from shared.service_layer.failure_routing import FailureRouter, Routed
from shared.service_layer.ports import Metrics
from shared.service_layer.projection import ConcurrentWriters, Projection, ProjectionReport

__all__ = ["OUTAGES", "BatchConsumer", "BatchOutcome"]

log = structlog.stdlib.get_logger(__name__)

OUTAGES: tuple[type[Exception], ...] = (StoreUnavailable, BrokerUnavailable, ConcurrentWriters)
"""Failures of the infrastructure, not of a message: rewind and retry, never dead-letter."""


@dataclass(slots=True)
class BatchOutcome:
    """What the caller must do with the batch, and what happened to it.

    Attributes:
        ack: Commit the batch's offsets; when False, seek back to its first records and
            wait `pause_seconds` before consuming again (nothing of it is lost).
        report: What the projection did (None when the batch was rewound).
        routed: Where each failed message went (retry tiers, dead letters).
        error: Why the batch was rewound.
    """

    ack: bool
    report: ProjectionReport | None = None
    routed: list[Routed] = field(default_factory=list)
    pause_seconds: float = 0.0
    error: str | None = None


def _identity(event: RecordedEvent) -> tuple[str, str, str]:
    return (event.tenant_id, event.user_id, event.event_id)


class BatchConsumer:
    """Projects consumed records; acks only after the store and the failure routes have them.

    An outage, or any error nobody expected, rewinds the whole batch and backs off with a
    capped exponential delay: it never spends a retry attempt or fills the dead letters, and
    no later ack can commit past records that were not handled. A batch whose database work
    times out is projected in smaller and smaller parts on the next tries (halved on every
    timeout, doubled back after each success), so work too big for the bound still passes.
    """

    def __init__(self, projection: Projection, router: FailureRouter, metrics: Metrics) -> None:
        self._projection = projection
        self._router = router
        self._metrics = metrics
        self._backoff = Backoff()
        self._chunk: int | None = None
        """Most events per projection call; None: the whole batch. Halved on each timeout."""

    async def consume(self, records: Sequence[ConsumedRecord]) -> BatchOutcome:
        """Handle the records; the outcome says whether to ack or to rewind and pause.

        Every outcome is counted: the failed messages by route, a rewind as an outage.
        """
        outcome = await self._consumed(records)
        self._metrics.batch_consumed(outcome)
        return outcome

    async def _consumed(self, records: Sequence[ConsumedRecord]) -> BatchOutcome:
        try:
            outcome = await self._handle(records)
        except StoreTimeout as error:
            self._chunk = max(1, (self._chunk or len(records)) // 2)
            return self._rewind("consumer_paused", error, records)
        except OUTAGES as error:
            return self._rewind("consumer_paused", error, records)
        except Exception as error:  # deliberately broad: never commit past unhandled records
            log.exception("batch_failed_unexpectedly", records=len(records))
            return self._rewind("batch_rewound", error, records)
        self._backoff.reset()
        if self._chunk is not None:
            self._chunk = None if self._chunk * 2 >= len(records) else self._chunk * 2
        return outcome

    def _rewind(
        self, event: str, error: Exception, records: Sequence[ConsumedRecord]
    ) -> BatchOutcome:
        delay = self._backoff.next_delay()
        reason = f"{type(error).__name__}: {error}"
        log.warning(event, error=reason, records=len(records), retry_in_seconds=round(delay, 2))
        return BatchOutcome(ack=False, pause_seconds=delay, error=reason)

    async def _handle(self, records: Sequence[ConsumedRecord]) -> BatchOutcome:
        events: list[RecordedEvent] = []
        origin: dict[tuple[str, str, str], ConsumedRecord] = {}
        routed: list[Routed] = []
        for record in records:
            try:
                event = RecordedEvent.from_json(record.value)
            except ContractViolation as violation:
                log.error(
                    "undecodable_event",
                    request_id=record.request_id,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    error=str(violation),
                )
                delivery = Delivery.from_record(record)
                routed.append(
                    await self._router.dead_letter_now(
                        delivery, "undecodable", str(violation), None
                    )
                )
                continue
            events.append(event)
            origin.setdefault(_identity(event), record)
        report = ProjectionReport()
        size = self._chunk or max(1, len(events))
        for first in range(0, len(events), size):
            report.merge(await self._project(events[first : first + size]))
        log.info(
            "records_projected",
            request_ids=sorted({record.request_id for record in records} - {None}),
            topics=sorted({record.topic for record in records}),
            first_offsets={
                f"{record.topic}/{record.partition}": record.offset for record in reversed(records)
            },
            applied=len(report.applied),
            duplicates=report.duplicates,
            conflicts=report.conflicts,
            failed=len(report.failed),
            refused=len(report.refused),
            over_quota=len(report.over_quota),
            erased=report.erased,
        )
        for event, reason in report.failed:
            delivery = Delivery.from_record(origin[_identity(event)])
            routed.append(await self._router.retry_or_dead_letter(delivery, reason, event))
        for event, reason in report.refused:
            delivery = Delivery.from_record(origin[_identity(event)])
            routed.append(await self._router.dead_letter_now(delivery, "refused", reason, event))
        for over in report.over_quota:
            delivery = Delivery.from_record(origin[_identity(over.event)])
            message = f"{over.quota}: {over.message}"
            routed.append(
                await self._router.dead_letter_now(delivery, "quota", message, over.event)
            )
        return BatchOutcome(ack=True, report=report, routed=routed)

    async def _project(self, events: list[RecordedEvent]) -> ProjectionReport:
        """Project together; if the store refuses the batch, one by one to find the culprit."""
        try:
            return await self._projection.project(events)
        except StoreRejected as refusal:
            if len(events) == 1:
                return ProjectionReport(refused=[(events[0], str(refusal))])
            log.warning("batch_refused", error=str(refusal), events=len(events))
        merged = ProjectionReport()
        for event in events:
            merged.merge(await self._project([event]))
        return merged
