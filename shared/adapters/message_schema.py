"""The JSON message on the progress topics, described for the AsyncAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import EVENT_TYPES

__all__ = ["RecordedEventMessage"]


class RecordedEventMessage(BaseModel):
    """An accepted event as it travels on Kafka: the app's event plus the server's fields.

    The key is `tenantId/userId`; headers `content-type`, `schema-version`, `request-id`
    (retry tiers add `attempt`, `error`, `error-history`, `original-topic`,
    `original-partition`, `original-offset`, `first-failed-at`, `due-at`). The payload of each
    type is specified in docs/event-contract.schema.json.
    """

    model_config = ConfigDict(title="RecordedEvent")

    tenantId: str = Field(description="Tenant the event belongs to (set by the gateway).")
    userId: str = Field(description="User the event belongs to (set by the gateway).")
    receivedAt: datetime = Field(description="When the gateway accepted it (RFC 3339, UTC).")
    eventId: str = Field(min_length=1, max_length=128, description="Idempotency key.")
    occurredAt: datetime = Field(description="When it happened on the device (RFC 3339).")
    clientId: str = Field(min_length=1, max_length=128, description="Sending device or app.")
    type: str = Field(json_schema_extra={"enum": list(EVENT_TYPES)}, description="Event type.")
    payload: dict[str, Any] = Field(description="Type-specific; see the event contract.")
