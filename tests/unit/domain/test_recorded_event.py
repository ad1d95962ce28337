"""RecordedEvent: the flat JSON on Kafka and in the log, and its content hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.domain import ContractViolation, RecordedEvent

from .builders import raw_event, record

PAYLOAD = {
    "contentId": "$where",
    "status": "passed",
    "score": 100,
    "interaction": {"interactionId": "a.b", "state": {"kind": "quiz", "selectedOptionId": None}},
}


def sample(**changes: object) -> RecordedEvent:
    raw = raw_event(
        "content.progressed", "2025-12-22T21:36:50.595+01:00", PAYLOAD, event_id="event-1"
    )
    raw.update(changes)
    return record(raw, received_at="2025-12-22T20:36:51Z")


def test_json_is_flat_compact_and_sorted() -> None:
    encoded = sample().to_json()
    assert encoded == (
        b'{"clientId":"web","eventId":"event-1","occurredAt":"2025-12-22T20:36:50.595000Z",'
        b'"payload":{"contentId":"$where","interaction":{"interactionId":"a.b",'
        b'"state":{"kind":"quiz","selectedOptionId":null}},"score":100,"status":"passed"},'
        b'"receivedAt":"2025-12-22T20:36:51Z","tenantId":"demo","type":"content.progressed",'
        b'"userId":"u1"}'
    )


def test_json_round_trip() -> None:
    event = sample()
    assert RecordedEvent.from_json(event.to_json()) == event
    assert RecordedEvent.from_json(event.to_json().decode()) == event
    reset = record(raw_event("progress.reset", "2026-01-01T00:00:00Z"))
    assert json.loads(reset.to_json())["payload"] == {}
    assert RecordedEvent.from_json(reset.to_json()) == reset


def test_convenience_attributes() -> None:
    event = sample()
    assert (event.tenant_id, event.user_id, event.event_id, event.type) == (
        "demo",
        "u1",
        "event-1",
        "content.progressed",
    )
    assert event.occurred_at == datetime(2025, 12, 22, 20, 36, 50, 595000, tzinfo=UTC)
    assert event.received_at == datetime(2025, 12, 22, 20, 36, 51, tzinfo=UTC)


def test_old_events_decode_without_clock_check() -> None:
    future = record(raw_event("course.completed", "2099-01-01T00:00:00Z", {"courseId": "c"}))
    assert RecordedEvent.from_json(future.to_json()) == future


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"{not json", None),
        (b"\xff\xfe", None),
        (b"[1, 2]", None),
        (b"null", None),
    ],
)
def test_undecodable_input(data: bytes, field: str | None) -> None:
    with pytest.raises(ContractViolation) as raised:
        RecordedEvent.from_json(data)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("tenantId", None, "tenantId"),
        ("tenantId", "Demo", "tenantId"),
        ("tenantId", "a/b", "tenantId"),
        ("userId", None, "userId"),
        ("userId", "has space", "userId"),
        ("receivedAt", None, "receivedAt"),
        ("receivedAt", "yesterday", "receivedAt"),
        ("type", "content.deleted", "type"),
        ("occurredAt", "2025-12-22T20:36:50", "occurredAt"),
        ("payload", {"contentId": "x"}, "payload.status"),
    ],
)
def test_invalid_recorded_events(key: str, value: object, field: str) -> None:
    body = json.loads(sample().to_json())
    if value is None:
        del body[key]
    else:
        body[key] = value
    with pytest.raises(ContractViolation) as raised:
        RecordedEvent.from_json(json.dumps(body))
    assert raised.value.field == field
    assert raised.value.event_id == "event-1"


def test_content_hash_covers_only_what_the_client_sent() -> None:
    event = sample()
    again = event.model_copy(
        update={"received_at": datetime(2026, 1, 1, tzinfo=UTC), "user_id": "u2"}
    )
    assert again.content_hash() == event.content_hash()
    # The same instant written with another offset, and object keys in another order.
    same = sample(
        occurredAt="2025-12-22T20:36:50.595Z",
        payload=dict(reversed(list(PAYLOAD.items()))),
    )
    assert same.content_hash() == event.content_hash()
    different = sample(payload={**PAYLOAD, "score": 99})
    assert different.content_hash() != event.content_hash()
    assert sample(clientId="phone").content_hash() != event.content_hash()
    assert len(event.content_hash()) == 64
