"""Consuming with FastStream: records in, then commit or rewind as the use case decides."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, TypeVar

from aiokafka import TopicPartition
from faststream.kafka.message import KafkaMessage

from shared.service_layer.records import ConsumedRecord

__all__ = ["Consumer", "Outcome", "consume_message", "raw_bodies", "records_of"]


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


def _rewind(message: KafkaMessage, records: Sequence[ConsumedRecord]) -> None:
    """Seek every partition of a batch back to its first record, so it is delivered again."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        first[partition] = min(first.get(partition, record.offset), record.offset)
    for partition, offset in first.items():
        message.consumer.seek(partition, offset)


async def consume_message(consumer: Consumer[Decided], message: KafkaMessage) -> Decided:
    """Run the use case on a message; commit after it succeeded, else rewind and pause.

    The commit comes only after the use case returned, that is after MongoDB and the
    failure routes acknowledged everything of the batch.
    """
    records = records_of(message)
    outcome = await consumer.consume(records)
    if outcome.ack:
        await message.ack()
    else:
        _rewind(message, records)
        await asyncio.sleep(outcome.pause_seconds)
    return outcome
