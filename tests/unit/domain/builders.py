"""Small helpers that build valid events and logs for the domain tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.domain import RecordedEvent, Snapshot, reduce, validate_event

TENANT = "demo"
USER = "u1"
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """An RFC 3339 string as an aware datetime (test shorthand)."""
    return datetime.fromisoformat(text)


def raw_event(
    event_type: str,
    occurred_at: str,
    payload: dict[str, Any] | None = None,
    *,
    event_id: str = "e-1",
    client_id: str = "web",
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "eventId": event_id,
        "occurredAt": occurred_at,
        "clientId": client_id,
        "type": event_type,
    }
    if payload is not None:
        raw["payload"] = payload
    return raw


def record(
    raw: dict[str, Any], *, user: str = USER, received_at: str | None = None
) -> RecordedEvent:
    event = validate_event(raw, now=FAR_FUTURE)
    received = at(received_at) if received_at else event.occurred_at
    return RecordedEvent(tenant_id=TENANT, user_id=user, received_at=received, event=event)


class Log:
    """A user's event log in storage order, written by one or more clients."""

    def __init__(self, client_id: str = "web", prefix: str = "e") -> None:
        self.events: list[RecordedEvent] = []
        self.client_id = client_id
        self.prefix = prefix

    def add(
        self, event_type: str, occurred_at: str, payload: dict[str, Any] | None = None
    ) -> RecordedEvent:
        event_id = f"{self.prefix}-{len(self.events) + 1}"
        raw = raw_event(
            event_type, occurred_at, payload, event_id=event_id, client_id=self.client_id
        )
        event = record(raw)
        self.events.append(event)
        return event

    def snapshot(self) -> Snapshot:
        return reduce(self.events, tenant_id=TENANT, user_id=USER)


def rated_history(count: int, prefix: str = "e") -> list[RecordedEvent]:
    """`count` ratings of user u1 a minute apart, in occurredAt order, on `prefix`'s contents."""
    return [
        record(
            raw_event(
                "content.rated",
                f"2026-11-{1 + n // 1440:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00Z",
                {"contentId": f"{prefix}-c{n % 7}", "rating": "easy" if n % 2 else "hard"},
                event_id=f"{prefix}-{n:05d}",
            )
        )
        for n in range(count)
    ]
