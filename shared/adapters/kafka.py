"""Kafka wiring: the FastStream broker, consumer lag, and error translation."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from faststream.exceptions import IncorrectState
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from shared.adapters.settings import Settings
from shared.service_layer.errors import BrokerUnavailable
from shared.service_layer.message_headers import (
    HEADER_CONTENT_TYPE,
    HEADER_REQUEST_ID,
    HEADER_SCHEMA_VERSION,
    JSON_CONTENT_TYPE,
    SCHEMA_VERSION,
)

__all__ = [
    "BROKER_ERRORS",
    "broker_errors",
    "connected_producer",
    "consumer_lag",
    "event_headers",
    "kafka_broker",
    "kafka_client_options",
    "kafka_security",
    "unconsumed_ranges",
]

_CONSUMER_REQUEST_TIMEOUT_MS = 30_000
_SASL_SECURITY = {
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
    "PLAIN": SASLPlaintext,
}


def kafka_security(settings: Settings) -> BaseSecurity | None:
    """How this process's Kafka clients authenticate and encrypt (None: PLAINTEXT).

    `PROGRESS_KAFKA_SECURITY_PROTOCOL` picks TLS and/or SASL; TLS verifies the brokers against
    `PROGRESS_KAFKA_SSL_CAFILE` (else the system's CAs) and checks their host names.
    """
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    use_ssl = protocol.endswith("SSL")
    cafile = settings.kafka_ssl_cafile or None
    context = ssl.create_default_context(cafile=cafile) if use_ssl else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return _SASL_SECURITY[settings.kafka_sasl_mechanism](
        settings.kafka_sasl_username,
        settings.kafka_sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=use_ssl,
    )


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments every bare aiokafka client (admin, consumer, producer) starts with.

    The same servers, request timeout and security as the FastStream brokers
    (`kafka_broker`), so no client of this process connects differently from the others.
    """
    return {
        "bootstrap_servers": settings.kafka_servers,
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        **parse_security(kafka_security(settings)),
    }


def kafka_broker(settings: Settings, *, client_id: str, consumer: bool = False) -> KafkaBroker:
    """A FastStream broker that waits for every replica's acknowledgement (acks=all).

    The idempotent producer follows `PROGRESS_KAFKA_IDEMPOTENT`: Apache Kafka supports it;
    the embedded Tansu broker refuses InitProducerId, so the embedded stack turns it off.
    Duplicates are absorbed downstream by eventId either way. FastStream's per-message lines
    are logged at DEBUG; a handler's exception at ERROR, never silently. A consumer's
    requests may wait longer than a producer's: joining a group waits out the broker's
    rebalance delay (about 5 s on Tansu), which a short request timeout would turn into an
    endless retry.
    """
    timeout = settings.kafka_request_timeout_ms
    return KafkaBroker(
        settings.kafka_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotent,
        linger_ms=settings.kafka_linger_ms,
        request_timeout_ms=max(timeout, _CONSUMER_REQUEST_TIMEOUT_MS) if consumer else timeout,
        allow_auto_create_topics=False,
        security=kafka_security(settings),
        graceful_timeout=30.0,
        logger=logging.getLogger("progress.faststream"),
        log_level=logging.DEBUG,
    )


def connected_producer(broker: KafkaBroker) -> AIOKafkaProducer:
    """The aiokafka producer of a connected FastStream broker, for sends without FastStream.

    FastStream 0.7 has no public accessor for it, so this is the one place that reads its
    producer state; it fails loudly, not silently, if that ever moves.

    Raises:
        BrokerUnavailable: The broker is not connected (not yet, or no longer).
        RuntimeError: FastStream keeps its producer somewhere else.
    """
    state = getattr(broker.config.producer, "_producer", None)
    try:
        producer = getattr(state, "producer", None)
    except IncorrectState as error:
        raise BrokerUnavailable(f"the broker is not connected: {error}") from error
    if not isinstance(producer, AIOKafkaProducer):
        raise RuntimeError("the FastStream broker keeps no aiokafka producer where expected")
    return producer


BROKER_ERRORS: tuple[type[Exception], ...] = (KafkaError, TimeoutError, ConnectionError)
"""What the Kafka client raises when the broker does not answer or acknowledge in time."""


@asynccontextmanager
async def broker_errors(what: str) -> AsyncIterator[None]:
    """The one place the Kafka client's errors become `BrokerUnavailable`."""
    try:
        yield
    except BROKER_ERRORS as error:
        raise BrokerUnavailable(f"{what}: {type(error).__name__}: {error}") from error


def event_headers(request_id: str) -> dict[str, str]:
    """The headers every message on `progress.events` carries (an empty request id is left out)."""
    headers = {HEADER_CONTENT_TYPE: JSON_CONTENT_TYPE, HEADER_SCHEMA_VERSION: SCHEMA_VERSION}
    if request_id:
        headers[HEADER_REQUEST_ID] = request_id
    return headers


async def unconsumed_ranges(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, group: str, topic: str
) -> dict[TopicPartition, tuple[int, int]]:
    """Per partition of `topic`: the offsets `group` has not consumed, as [first, end).

    `first` is the group's committed offset, or the partition's first offset where it has
    none (the consumers read from the earliest). Started clients; Kafka errors propagate.
    """
    (description,) = await admin.describe_topics([topic])
    partitions = [TopicPartition(topic, item["partition"]) for item in description["partitions"]]
    committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    starts = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    ranges: dict[TopicPartition, tuple[int, int]] = {}
    for partition in partitions:
        done = committed.get(partition)
        first = done.offset if done is not None and done.offset >= 0 else starts[partition]
        ranges[partition] = (max(first, starts[partition]), ends[partition])
    return ranges


async def consumer_lag(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """Messages not yet committed by `group` on each partition of `topic` (end - committed)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), enable_auto_commit=False)
    try:
        async with broker_errors("cannot read consumer lag"):
            await admin.start()
            await consumer.start()
            ranges = await unconsumed_ranges(admin, consumer, group, topic)
    finally:
        await consumer.stop()
        await admin.close()
    return {partition.partition: max(0, end - first) for partition, (first, end) in ranges.items()}
