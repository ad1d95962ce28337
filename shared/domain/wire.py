"""What travels between apps, the gateway and the consumers, defined once.

Request limits, the server fields of a recorded event and its message key. Every layer that
reads or writes these (the gateway, the Kafka adapters, the OpenAPI and AsyncAPI generators,
the tests) imports them from here. The Kafka header names are transport, not domain: they
are in `shared.service_layer.message_headers`.
"""

from __future__ import annotations

__all__ = [
    "ID_MAX_LENGTH",
    "MAX_BODY_BYTES",
    "MAX_EVENTS_PER_REQUEST",
    "OPTIONAL_SERVER_FIELDS",
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


def message_key(tenant_id: str, user_id: str) -> bytes:
    """The Kafka key `tenantId/userId`: one user's events stay in one partition, in order."""
    return f"{tenant_id}/{user_id}".encode()
