"""Consumed messages: as the Kafka client hands them over, and with their failed attempts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.service_layer.message_headers import (
    HEADER_DUE_AT,
    HEADER_ERROR_HISTORY,
    HEADER_ORIGINAL_OFFSET,
    HEADER_ORIGINAL_PARTITION,
    HEADER_ORIGINAL_TOPIC,
    HEADER_REQUEST_ID,
)

__all__ = ["Attempt", "ConsumedRecord", "Delivery"]


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """One message as a consumer received it, independent of the Kafka client."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def request_id(self) -> str | None:
        """The `request-id` the gateway put on the message, if any."""
        return self.headers.get(HEADER_REQUEST_ID) or None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed delivery attempt: its number, the error and when it happened."""

    attempt: int
    error: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as carried in headers and stored in dead letters."""
        return {"attempt": self.attempt, "error": self.error, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Attempt:
        """Read what `to_dict` wrote."""
        return cls(int(item["attempt"]), str(item["error"]), datetime.fromisoformat(item["at"]))


@dataclass(slots=True)
class Delivery:
    """A consumed message with where it first came from and the attempts it has had."""

    raw: bytes
    key: bytes | None
    topic: str
    partition: int
    offset: int
    request_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    due_at: datetime | None = None

    @classmethod
    def from_record(cls, record: ConsumedRecord) -> Delivery:
        """Read a record's coordinates and, on a retry tier, its history from the headers."""
        headers = record.headers
        history = json.loads(headers.get(HEADER_ERROR_HISTORY, "[]"))
        due = headers.get(HEADER_DUE_AT)
        return cls(
            raw=record.value,
            key=record.key,
            topic=headers.get(HEADER_ORIGINAL_TOPIC, record.topic),
            partition=int(headers.get(HEADER_ORIGINAL_PARTITION, record.partition)),
            offset=int(headers.get(HEADER_ORIGINAL_OFFSET, record.offset)),
            request_id=record.request_id,
            attempts=[Attempt.from_dict(item) for item in history],
            due_at=datetime.fromisoformat(due) if due else None,
        )
