"""Consuming `progress.events` deliveries: decode, project, route failures, then commit.

The projector (batches from `progress.events`) and the retry worker (one message at a time
from a retry tier) both go through `DeliveryProjector`, so a retried event takes exactly the
projector's path: same idempotency, same reducer, same failure routing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka.message import KafkaMessage

from shared.adapters.backoff import Backoff
from shared.adapters.errors import BrokerUnavailable, StoreUnavailable
from shared.adapters.failure_routing import ConsumedRecord, Delivery, FailureRouter
from shared.adapters.logs import get_logger
from shared.adapters.metrics import PROJECTOR_OUTAGES
from shared.domain import ContractViolation, RecordedEvent
from shared.service_layer.projection import ConcurrentWriters, Projection, ProjectionReport

__all__ = ["OUTAGES", "DeliveryProjector", "records_of", "rewind"]

log = get_logger(__name__)

OUTAGES: tuple[type[BaseException], ...] = (
    StoreUnavailable,
    BrokerUnavailable,
    KafkaError,
    ConcurrentWriters,
    TimeoutError,
)
"""Failures of the infrastructure, not of a message: pause and retry, never dead-letter."""

Record = ConsumedRecord


def records_of(message: KafkaMessage) -> tuple[Record, ...]:
    """The consumer records of a (batch or single) FastStream message."""
    raw = message.raw_message
    records: tuple[Record, ...] = raw if isinstance(raw, tuple) else (raw,)
    return records


def rewind(message: KafkaMessage, records: Sequence[Record]) -> None:
    """Seek every partition of a batch back to its first record, so it is delivered again."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        first[partition] = min(first.get(partition, record.offset), record.offset)
    for partition, offset in first.items():
        message.consumer.seek(partition, offset)


def _request_id(record: Record) -> str | None:
    """The `request-id` header the gateway put on the message, if any."""
    for name, value in record.headers or ():
        if name == "request-id":
            return bytes(value).decode(errors="replace") or None
    return None


def _identity(event: RecordedEvent) -> tuple[str, str, str]:
    return (event.tenant_id, event.user_id, event.event_id)


class DeliveryProjector:
    """Projects consumed records; commits only after MongoDB and the failure routes have them.

    An outage (MongoDB or the broker unreachable) rewinds the records and backs off with a
    capped exponential delay; it never burns a retry attempt or fills the dead letters.
    """

    def __init__(self, projection: Projection, failures: FailureRouter) -> None:
        self._projection = projection
        self._failures = failures
        self._backoff = Backoff()

    async def handle(self, message: KafkaMessage) -> ProjectionReport | None:
        """Project the message's records, then commit; on an outage rewind and return None."""
        records = records_of(message)
        try:
            report = await self._project(records)
        except OUTAGES as error:
            PROJECTOR_OUTAGES.inc()
            delay = self._backoff.next_delay()
            log.warning("consumer_paused", error=str(error), retry_in_seconds=round(delay, 2))
            rewind(message, records)
            await asyncio.sleep(delay)
            return None
        self._backoff.reset()
        await message.ack()
        return report

    async def _project(self, records: Sequence[Record]) -> ProjectionReport:
        events: list[RecordedEvent] = []
        origin: dict[tuple[str, str, str], Record] = {}
        for record in records:
            try:
                event = RecordedEvent.from_json(record.value or b"")
            except ContractViolation as violation:
                log.error(
                    "undecodable_event",
                    request_id=_request_id(record),
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    error=str(violation),
                )
                delivery = Delivery.from_record(record)
                await self._failures.dead_letter_now(delivery, "undecodable", str(violation), None)
                continue
            events.append(event)
            origin.setdefault(_identity(event), record)
        report = await self._project_events(events)
        log.info(
            "records_projected",
            request_ids=sorted({_request_id(record) for record in records} - {None}),
            topics=sorted({record.topic for record in records}),
            first_offsets={
                f"{record.topic}/{record.partition}": record.offset for record in reversed(records)
            },
            applied=len(report.applied),
            duplicates=report.duplicates,
            conflicts=report.conflicts,
            failed=len(report.failed),
        )
        for event, reason in report.failed:
            delivery = Delivery.from_record(origin[_identity(event)])
            await self._failures.retry_or_dead_letter(delivery, reason, event)
        return report

    async def _project_events(self, events: list[RecordedEvent]) -> ProjectionReport:
        """Project together; if that fails for no known reason, one by one to find the culprit."""
        try:
            return await self._projection.project(events)
        except OUTAGES:
            raise
        except Exception as error:
            if len(events) == 1:
                log.exception("projection_failed", event_id=events[0].event_id)
                return ProjectionReport(failed=[(events[0], f"{type(error).__name__}: {error}")])
            log.warning("batch_projection_failed", error=str(error), events=len(events))
        merged = ProjectionReport()
        for event in events:
            single = await self._project_events([event])
            merged.applied.extend(single.applied)
            merged.duplicates += single.duplicates
            merged.conflicts += single.conflicts
            merged.replays.extend(single.replays)
            merged.failed.extend(single.failed)
        return merged
