"""What travels between apps, the gateway and the consumers, defined once.

Request limits, the Kafka header names and the server fields of a recorded event. Every
layer that reads or writes these (the gateway, the Kafka adapters, the OpenAPI and AsyncAPI
generators, the tests) imports them from here.
"""

from __future__ import annotations

__all__ = [
    "HEADER_ATTEMPT",
    "HEADER_CONTENT_TYPE",
    "HEADER_DUE_AT",
    "HEADER_ERROR",
    "HEADER_ERROR_HISTORY",
    "HEADER_FIRST_FAILED_AT",
    "HEADER_ORIGINAL_OFFSET",
    "HEADER_ORIGINAL_PARTITION",
    "HEADER_ORIGINAL_TOPIC",
    "HEADER_REASON",
    "HEADER_REQUEST_ID",
    "HEADER_SCHEMA_VERSION",
    "ID_MAX_LENGTH",
    "JSON_CONTENT_TYPE",
    "MAX_BODY_BYTES",
    "MAX_EVENTS_PER_REQUEST",
    "OPTIONAL_SERVER_FIELDS",
    "RETRY_HEADERS",
    "SCHEMA_VERSION",
    "SERVER_FIELDS",
    "message_key",
]

MAX_EVENTS_PER_REQUEST = 500
"""Most events one write request may carry (a client splits larger batches)."""

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body the gateway reads (1 MiB)."""

ID_MAX_LENGTH = 128
"""Longest ID (eventId, contentId, userId, ...), in characters."""

SERVER_FIELDS: tuple[str, ...] = ("tenantId", "userId", "receivedAt")
"""The fields the gateway adds to an event; a recorded event is one flat JSON object."""

OPTIONAL_SERVER_FIELDS: tuple[str, ...] = ("clientOccurredAt",)
"""Server fields present only sometimes: the device's own occurredAt when it was clamped."""

SCHEMA_VERSION = "1"
"""Version of the recorded event's JSON on the topics (header `schema-version`)."""

JSON_CONTENT_TYPE = "application/json"

HEADER_CONTENT_TYPE = "content-type"
HEADER_SCHEMA_VERSION = "schema-version"
HEADER_REQUEST_ID = "request-id"
HEADER_ATTEMPT = "attempt"
HEADER_ERROR = "error"
HEADER_ERROR_HISTORY = "error-history"
HEADER_ORIGINAL_TOPIC = "original-topic"
HEADER_ORIGINAL_PARTITION = "original-partition"
HEADER_ORIGINAL_OFFSET = "original-offset"
HEADER_FIRST_FAILED_AT = "first-failed-at"
HEADER_DUE_AT = "due-at"
HEADER_REASON = "reason"

RETRY_HEADERS: tuple[str, ...] = (
    HEADER_ATTEMPT,
    HEADER_ERROR,
    HEADER_ERROR_HISTORY,
    HEADER_ORIGINAL_TOPIC,
    HEADER_ORIGINAL_PARTITION,
    HEADER_ORIGINAL_OFFSET,
    HEADER_FIRST_FAILED_AT,
    HEADER_DUE_AT,
)
"""Headers a retry tier adds to a failed event (`reason` is added on the dead-letter topic)."""


def message_key(tenant_id: str, user_id: str) -> bytes:
    """The Kafka key `tenantId/userId`: one user's events stay in one partition, in order."""
    return f"{tenant_id}/{user_id}".encode()
