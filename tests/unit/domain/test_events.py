"""Validation of client events against the contract."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain import (
    EVENT_TYPES,
    MAX_CLOCK_SKEW,
    ContractViolation,
    accept_event,
    is_valid_id,
    new_reset_event,
    validate_event,
)

NOW = datetime(2026, 1, 28, 15, 30, tzinfo=UTC)
WHEN = "2026-01-28T15:00:00Z"

VALID_PAYLOADS: dict[str, dict[str, Any] | None] = {
    "content.progressed": {
        "contentId": "promises-vs-reality",
        "status": "passed",
        "score": 100,
        "contentVersion": "v1",
        "courseId": "c1",
        "interaction": {
            "interactionId": "pattern-recognition-quiz",
            "state": {"kind": "quiz", "selectedOptionId": "c"},
        },
    },
    "media.progressed": {
        "contentId": "chapter-1",
        "positionSeconds": 120.5,
        "durationSeconds": 320,
        "watchedSeconds": 10,
        "courseId": "tutorial-1",
    },
    "quiz.attempted": {"contentId": "quiz-1", "score": 8, "maxScore": 10, "passed": True},
    "content.rated": {"contentId": "w1-d3", "rating": "perfect"},
    "content.scheduled": {"contentId": "w1-d3", "scheduledFor": "2026-01-28"},
    "course.completed": {"courseId": "tutorial-1"},
    "onboarding.completed": {"pathId": "p1"},
    "onboarding.reset": {},
    "activePath.set": {"pathId": None},
    "progress.reset": None,
    "events.retracted": {"eventIds": ["e-1", "e-2"]},
}

# One invalid payload per type, with the field the violation must name.
INVALID_PAYLOADS: dict[str, tuple[dict[str, Any] | None, str]] = {
    "content.progressed": ({"contentId": "x", "status": "done"}, "payload.status"),
    "media.progressed": ({"contentId": "x", "positionSeconds": -1}, "payload.positionSeconds"),
    "quiz.attempted": (
        {"contentId": "x", "score": 1, "maxScore": 2, "passed": "yes"},
        "payload.passed",
    ),
    "content.rated": ({"contentId": "x", "rating": "r" * 33}, "payload.rating"),
    "content.scheduled": ({"contentId": "x", "scheduledFor": "28.01.2026"}, "payload.scheduledFor"),
    "course.completed": ({}, "payload.courseId"),
    "onboarding.completed": ({"pathId": ""}, "payload.pathId"),
    "onboarding.reset": ({"pathId": "p1"}, "payload.pathId"),
    "activePath.set": ({}, "payload.pathId"),
    "progress.reset": ({"all": True}, "payload.all"),
    "events.retracted": ({"eventIds": []}, "payload.eventIds"),
}


def event(event_type: str = "content.rated", **changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "eventId": "e-17",
        "occurredAt": WHEN,
        "clientId": "client-123",
        "type": event_type,
    }
    payload = VALID_PAYLOADS[event_type]
    if payload is not None:
        raw["payload"] = payload
    raw.update(changes)
    return raw


def violation(raw: object) -> ContractViolation:
    with pytest.raises(ContractViolation) as raised:
        validate_event(raw, now=NOW)
    return raised.value


def test_the_contract_has_eleven_types() -> None:
    assert set(EVENT_TYPES) == set(VALID_PAYLOADS) == set(INVALID_PAYLOADS)
    assert len(EVENT_TYPES) == 11


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_type_accepts_a_valid_event(event_type: str) -> None:
    validated = validate_event(event(event_type), now=NOW)
    assert validated.type == event_type
    assert validated.event_id == "e-17"
    assert validated.occurred_at == datetime(2026, 1, 28, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_type_rejects_an_invalid_payload(event_type: str) -> None:
    payload, field = INVALID_PAYLOADS[event_type]
    error = violation(event(event_type, payload=payload))
    assert error.field == field
    assert error.event_id == "e-17"
    assert str(error).startswith(f"event 'e-17': {field}: ")


def test_error_names_field_and_event_id() -> None:
    error = violation(event("content.progressed", payload={"contentId": "x", "status": "done"}))
    assert str(error) == (
        "event 'e-17': payload.status: "
        "Input should be 'not_started', 'in_progress', 'completed' or 'passed'"
    )
    assert error.message.startswith("Input should be")


@pytest.mark.parametrize("event_type", ["onboarding.reset", "progress.reset"])
def test_reset_payload_may_be_omitted_or_empty(event_type: str) -> None:
    omitted = {k: v for k, v in event(event_type).items() if k != "payload"}
    assert validate_event(omitted, now=NOW) == validate_event(
        event(event_type, payload={}), now=NOW
    )
    assert violation(event(event_type, payload=None)).field == "payload"


def test_optional_fields_may_be_null() -> None:
    raw = event(
        "content.progressed", payload={"contentId": "x", "status": "completed", "score": None}
    )
    assert validate_event(raw, now=NOW).payload.score is None  # type: ignore[union-attr]


def test_unknown_type_lists_the_known_types() -> None:
    error = violation(event(type="content.deleted"))
    assert error.field == "type"
    assert "'content.deleted'" in error.message
    assert all(name in error.message for name in EVENT_TYPES)
    missing = violation({k: v for k, v in event().items() if k != "type"})
    assert missing.field == "type"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"extra": 1}, "extra"),
        ({"payload": {"contentId": "x", "rating": "ok", "stars": 5}}, "payload.stars"),
        ({"clientId": 123}, "clientId"),
        ({"eventId": ""}, "eventId"),
    ],
)
def test_extra_fields_and_wrong_types_are_rejected(changes: dict[str, Any], field: str) -> None:
    assert violation(event(**changes)).field == field


@pytest.mark.parametrize(
    "payload",
    [
        {"contentId": "x", "status": "completed", "score": "90"},
        {"contentId": "x", "status": "completed", "score": True},
        {"contentId": "x", "status": "completed", "score": float("nan")},
        {"contentId": "x", "status": "completed", "score": float("inf")},
        {"contentId": "x", "status": "completed", "score": 10**400},
        {"contentId": "x", "status": "completed", "score": -0.5},
        {"contentId": "x", "status": "completed", "contentVersion": "v" * 65},
        {"contentId": "x", "status": "completed", "interaction": {"interactionId": "q"}},
        {
            "contentId": "x",
            "status": "completed",
            "interaction": {"interactionId": "q", "state": []},
        },
    ],
)
def test_numbers_strings_and_states_are_strict(payload: dict[str, Any]) -> None:
    assert violation(event("content.progressed", payload=payload)).field.startswith("payload.")  # type: ignore[union-attr]


def test_numbers_keep_their_json_type() -> None:
    raw = event(
        "quiz.attempted", payload={"contentId": "q", "score": 8, "maxScore": 9.5, "passed": False}
    )
    payload = validate_event(raw, now=NOW).payload
    assert type(payload.score) is int  # type: ignore[union-attr]
    assert type(payload.max_score) is float  # type: ignore[union-attr]


def test_interaction_state_is_bounded() -> None:
    def with_state(state: dict[str, Any]) -> dict[str, Any]:
        interaction = {"interactionId": "q", "state": state}
        return event(
            "content.progressed",
            payload={"contentId": "x", "status": "in_progress", "interaction": interaction},
        )

    assert validate_event(with_state({"text": "a" * 4000}), now=NOW)
    error = violation(with_state({"text": "a" * 4100}))
    assert error.field == "payload.interaction.state"


@pytest.mark.parametrize(
    "good_id", ["$where", "a.b", "$set.x", "ü-ß", "x" * 128, "user@example.com"]
)
def test_ids_with_dollar_and_dot_are_accepted(good_id: str) -> None:
    raw = event(eventId=good_id, clientId=good_id, payload={"contentId": good_id, "rating": "ok"})
    assert validate_event(raw, now=NOW).payload.content_id == good_id  # type: ignore[union-attr]
    assert is_valid_id(good_id)


@pytest.mark.parametrize(
    "bad_id", ["", "a b", "tab\there", "new\nline", "nbsp\u00a0", "x" * 129, "nul\x00"]
)
def test_ids_with_whitespace_or_too_long_are_rejected(bad_id: str) -> None:
    error = violation(event(payload={"contentId": bad_id, "rating": "ok"}))
    assert error.field == "payload.contentId"
    assert not is_valid_id(bad_id)


def test_event_id_in_messages_is_shortened() -> None:
    error = violation(event(eventId="x" * 500))
    assert error.field == "eventId"
    assert len(str(error)) < 300


def test_an_occurred_at_too_far_ahead_is_clamped_to_the_receive_time() -> None:
    assert timedelta(minutes=5) == MAX_CLOCK_SKEW
    on_time, adjusted = accept_event(event(occurredAt="2026-01-28T15:35:00Z"), now=NOW)
    assert adjusted is None
    assert on_time.occurred_at == NOW + MAX_CLOCK_SKEW
    ahead, adjusted = accept_event(event(occurredAt="2026-01-28T15:35:01Z"), now=NOW)
    assert ahead.occurred_at == NOW
    assert adjusted == NOW + MAX_CLOCK_SKEW + timedelta(seconds=1)
    assert validate_event(event(occurredAt="2026-01-28T15:35:01Z"), now=NOW).occurred_at == NOW


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-28T15:00:00",
        "2026-01-28",
        "1769612400",
        "28 Jan 2026 15:00 GMT",
        "2026-01-28T15:00:00+0100",
    ],
)
def test_timestamps_need_rfc3339_with_offset(text: str) -> None:
    assert violation(event(occurredAt=text)).field == "occurredAt"


def test_non_string_timestamps_are_rejected() -> None:
    assert violation(event(occurredAt=1769612400)).field == "occurredAt"


def test_timestamps_are_normalised_to_utc() -> None:
    validated = validate_event(event(occurredAt="2026-01-28T17:00:00.250+02:00"), now=NOW)
    assert validated.occurred_at == datetime(2026, 1, 28, 15, 0, 0, 250000, tzinfo=UTC)
    assert validated.occurred_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("raw", [None, [], "event", 3])
def test_non_objects_are_rejected(raw: object) -> None:
    error = violation(raw)
    assert error.field is None
    assert error.event_id is None
    assert str(error) == "an event must be a JSON object"


def test_violations_survive_pickling() -> None:
    error = violation(event(payload={"contentId": "a b", "rating": "ok"}))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.message, copy.event_id, str(copy)) == (
        error.field,
        error.message,
        error.event_id,
        str(error),
    )
    assert isinstance(error, ValueError)


def test_new_reset_event() -> None:
    reset = new_reset_event(event_id="del-1", occurred_at=NOW, client_id="gateway")
    assert reset.type == "progress.reset"
    assert (reset.event_id, reset.occurred_at, reset.client_id) == ("del-1", NOW, "gateway")
    with pytest.raises(ContractViolation):
        new_reset_event(event_id="has space", occurred_at=NOW, client_id="gateway")


def test_events_are_immutable() -> None:
    validated = validate_event(event(), now=NOW)
    with pytest.raises(ValueError, match="frozen"):
        validated.event_id = "other"  # type: ignore[misc]


def test_snake_case_names_are_not_part_of_the_wire_contract() -> None:
    raw = event()
    raw["event_id"] = raw.pop("eventId")
    error = violation(raw)
    assert (error.field, error.message) == ("eventId", "Field required")
