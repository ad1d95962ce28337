"""Consuming with FastStream: records in, then commit or rewind as the use case decides."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypedDict, TypeVar

from aiokafka import TopicPartition
from faststream.kafka.message import KafkaMessage

from shared.adapters.consumer_liveness import ConsumerLiveness
from shared.adapters.logs import get_logger
from shared.adapters.metrics import CONSUMER_REVOKED_RECORDS
from shared.adapters.partition_ownership import PartitionOwnership
from shared.adapters.settings import Settings
from shared.service_layer.deliveries import ConsumedRecord

__all__ = [
    "Consumer",
    "ConsumerLoop",
    "LoopOptions",
    "Outcome",
    "consume_message",
    "loop_options",
    "raw_bodies",
    "records_of",
]

log = get_logger(__name__)


class Outcome(Protocol):
    """What a consumer decided about a batch: commit it, or rewind and pause."""

    @property
    def ack(self) -> bool:
        """Commit the batch's offsets (else rewind it)."""
        ...

    @property
    def pause_seconds(self) -> float:
        """How long to wait before consuming again after a rewind."""
        ...


OutcomeT = TypeVar("OutcomeT", bound=Outcome, covariant=True)
Decided = TypeVar("Decided", bound=Outcome)


class Consumer(Protocol[OutcomeT]):
    """A use case that handles a batch of consumed records (the projector's, the insights')."""

    async def consume(self, records: Sequence[ConsumedRecord]) -> OutcomeT:
        """Handle the records; the outcome says whether to ack or to rewind and pause."""
        ...


async def raw_bodies(message: object) -> object:
    """A FastStream decoder that keeps bodies as bytes: decoding is the use case's job.

    Without it FastStream would JSON-decode `application/json` bodies into dicts, and an
    undecodable message would never reach the handler (and so never the dead letters).
    """
    return getattr(message, "body", None)


def records_of(message: KafkaMessage) -> list[ConsumedRecord]:
    """The records of a (batch or single) FastStream message, with their headers decoded."""
    raw = message.raw_message
    records = raw if isinstance(raw, tuple) else (raw,)
    return [
        ConsumedRecord(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value or b"",
            headers={
                name: bytes(value).decode(errors="replace") for name, value in record.headers or ()
            },
        )
        for record in records
    ]


@dataclass(frozen=True, slots=True)
class ConsumerLoop:
    """What every batch of one process's consumers goes through: ownership and liveness.

    Attributes:
        service: The process's role, for logs and metrics (`projector`, `retry_worker`,
            `insights`).
        ownership: The rebalance listener of the process's subscribers.
        liveness: The batches in hand, for `/healthz`.
    """

    service: str
    ownership: PartitionOwnership
    liveness: ConsumerLiveness

    @classmethod
    def of(cls, service: str, settings: Settings) -> ConsumerLoop:
        """A process's loop: its own ownership listener, liveness on the configured stall bound."""
        return cls(
            service, PartitionOwnership(service), ConsumerLiveness(settings.consumer_stall_seconds)
        )


class LoopOptions(TypedDict):
    """Subscriber options on group membership (typed, so a subscriber's call stays typed)."""

    session_timeout_ms: int
    heartbeat_interval_ms: int
    max_poll_interval_ms: int
    listener: PartitionOwnership


def loop_options(settings: Settings, loop: ConsumerLoop) -> LoopOptions:
    """The group-membership options of every subscriber, from settings, not client defaults.

    A consumer that misses heartbeats for the session timeout (a crash, a freeze) loses its
    partitions to the rest of the group; one that does not come back for another batch
    within the poll interval leaves the group. The listener tracks what it owns.
    """
    return LoopOptions(
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
        max_poll_interval_ms=settings.consumer_max_poll_interval_ms,
        listener=loop.ownership,
    )


def _partition(record: ConsumedRecord) -> TopicPartition:
    return TopicPartition(record.topic, record.partition)


def _rewind(message: KafkaMessage, records: Sequence[ConsumedRecord]) -> None:
    """Seek every owned partition of a batch back to its first record, to deliver it again.

    A partition revoked meanwhile is left alone: its new owner reads it from the last commit
    (and seeking a partition one does not own is an error).
    """
    first: dict[TopicPartition, int] = {}
    for record in records:
        partition = _partition(record)
        first[partition] = min(first.get(partition, record.offset), record.offset)
    owned = PartitionOwnership.owned(message.consumer)
    for partition, offset in first.items():
        if partition in owned:
            message.consumer.seek(partition, offset)


def _drop_revoked(
    loop: ConsumerLoop, records: list[ConsumedRecord], revoked: set[TopicPartition], when: str
) -> None:
    """Count and log the records of revoked partitions this process will not finish."""
    dropped = [record for record in records if _partition(record) in revoked]
    if not dropped:
        return
    CONSUMER_REVOKED_RECORDS.labels(loop.service, when).inc(len(dropped))
    log.warning(
        "revoked_partition_work_dropped",
        service=loop.service,
        when=when,
        records=len(dropped),
        partitions=sorted(f"{p.topic}[{p.partition}]" for p in revoked),
    )


async def consume_message(
    loop: ConsumerLoop, consumer: Consumer[Decided], message: KafkaMessage
) -> Decided | None:
    """Run the use case on a message; commit after it succeeded, else rewind and pause.

    The commit comes only after the use case returned, that is after MongoDB and the
    failure routes acknowledged everything of the batch. Records of partitions this
    consumer no longer owns are not written; when a partition of the batch is revoked while
    it is being written, nothing is committed (the new owner reads it again from the last
    commit). None: the whole batch belonged to revoked partitions.
    """
    records = records_of(message)
    owned = PartitionOwnership.owned(message.consumer)
    _drop_revoked(loop, records, {_partition(r) for r in records} - owned, "before")
    records = [record for record in records if _partition(record) in owned]
    if not records:
        return None
    marks = loop.ownership.marks({_partition(record) for record in records})
    with loop.liveness.working(f"a batch of {len(records)} records"):
        outcome = await consumer.consume(records)
        revoked = loop.ownership.revoked_since(marks)
        if revoked:
            _drop_revoked(loop, records, revoked, "during")
        elif outcome.ack:
            await message.ack()
    if not outcome.ack:
        _rewind(message, records)
        await asyncio.sleep(outcome.pause_seconds)
    return outcome
