"""An accepted event as the server records it: the app's event plus the server's fields."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from .errors import ContractViolation, violation_from
from .events import EVENT_TYPES, ProgressEvent, parse_event
from .ids import Id, TenantId
from .payloads import ContractModel
from .values import Omittable, Timestamp
from .wire import OPTIONAL_SERVER_FIELDS, SERVER_FIELDS

__all__ = ["RecordedEvent"]


class RecordedEvent(ContractModel):
    """An accepted event with the fields the server adds, as on Kafka and in the event log.

    On the wire it is one flat JSON object: the event's own fields plus `tenantId`, `userId`
    and `receivedAt`.
    """

    tenant_id: TenantId
    user_id: Id
    received_at: Timestamp
    event: ProgressEvent
    client_occurred_at: Omittable[Timestamp] = None
    """The occurredAt the device sent, when it ran too far ahead and was clamped."""

    @property
    def event_id(self) -> str:
        """The event's eventId."""
        return self.event.event_id

    @property
    def occurred_at(self) -> datetime:
        """The event's occurredAt (UTC)."""
        return self.event.occurred_at

    @property
    def type(self) -> str:
        """The event's type name."""
        return self.event.type

    def to_json(self) -> bytes:
        """Encode as flat, compact UTF-8 JSON with sorted keys (same event, same bytes)."""
        body = self.event.model_dump(mode="json")
        body.update(self.model_dump(mode="json", exclude={"event"}))
        return _canonical(body)

    @classmethod
    def from_json(cls, data: bytes | str) -> RecordedEvent:
        """Decode what `to_json` wrote; the clock-skew rule is not applied again.

        Raises:
            ContractViolation: For invalid JSON, a missing or invalid server field, or an
                event that breaks the contract.
        """
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            raise ContractViolation(None, "not valid JSON") from None
        if not isinstance(body, dict):
            raise ContractViolation(None, "a recorded event must be a JSON object")
        fields = (*SERVER_FIELDS, *OPTIONAL_SERVER_FIELDS)
        server: dict[str, Any] = {key: body.pop(key) for key in fields if key in body}
        event = parse_event(body)
        try:
            return cls.model_validate({**server, "event": event}, by_alias=True, by_name=False)
        except ValidationError as error:
            raise violation_from(error, body, event_types=EVENT_TYPES) from None

    def content_hash(self) -> str:
        """Hash what the client sent (envelope and payload, not the server fields).

        Two events under one eventId are the same event exactly when their hashes are equal;
        times are compared as UTC instants, object keys in any order.
        """
        sent = self.event.model_dump(mode="json")
        if self.client_occurred_at is not None:
            sent["occurredAt"] = self.model_dump(mode="json")["clientOccurredAt"]
        return hashlib.sha256(_canonical(sent)).hexdigest()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
