"""Text no parser can take is refused whole with a clear 400; a bad value only its event.

The body's depth is measured on the raw text (the standard library's parser recurses to
about 1,000 levels), lone UTF-16 surrogates and integers past 4,300 digits are refused at
the door, and a value the domain refuses (too deep, too large) rejects its event alone.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from shared.domain.json_text import MAX_BODY_DEPTH
from tests.support.services import TEST_API_KEY, Stack

pytestmark = pytest.mark.e2e

HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}


def event(event_id: str, **payload: Any) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": "2026-11-20T10:00:00Z",
        "clientId": "text-test",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-1", "status": "completed", **payload},
    }


def new_user() -> str:
    return f"text-{uuid.uuid4().hex[:10]}"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_write(gateway: str, state_depth: int) -> httpx.Response:
    """One event whose state nests `state_depth` levels; the envelope adds 6 more."""
    state = f'{{"kind":"custom","deep":{nested(state_depth)}}}'
    good = event(f"good-{uuid.uuid4()}")
    raw = (
        '{"events":[{"eventId":"deep-1","occurredAt":"2026-11-20T10:00:00Z",'
        '"clientId":"c","type":"content.progressed","payload":{"contentId":"l1",'
        f'"status":"completed","interaction":{{"interactionId":"q","state":{state}}}}}}},'
        f"{json.dumps(good)}]}}"
    )
    return httpx.put(
        f"{gateway}/v1/users/{new_user()}/progress",
        content=raw.encode(),
        headers={**HEADERS, "Content-Type": "application/json"},
    )


def test_a_body_at_the_depth_bound_is_parsed_and_only_the_deep_event_rejected(
    stack: Stack,
) -> None:
    answer = deep_write(stack.gateway_url, MAX_BODY_DEPTH - 6)
    assert answer.status_code == 202, answer.text
    deep, good = answer.json()["results"]
    assert (deep["status"], deep["field"]) == ("rejected", "payload.interaction.state")
    assert good["status"] == "accepted"


@pytest.mark.parametrize("state_depth", [MAX_BODY_DEPTH - 5, 1_500, 100_000])
def test_a_body_nested_past_the_bound_is_400_naming_the_limit(
    stack: Stack, state_depth: int
) -> None:
    """Past the bound no parser ever sees the body (the stdlib's recurses to ~1,000)."""
    answer = deep_write(stack.gateway_url, state_depth)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == {
        "code": "too_deep",
        "message": f"the body nests arrays and objects deeper than {MAX_BODY_DEPTH} levels",
    }


def test_brackets_inside_strings_do_not_count_as_depth(stack: Stack) -> None:
    body = {"events": [event(f"s-{uuid.uuid4()}", contentId="[" * 500 + "]" * 500)]}
    answer = httpx.put(
        f"{stack.gateway_url}/v1/users/{new_user()}/progress", json=body, headers=HEADERS
    )
    assert answer.status_code == 202, answer.text


def put_raw(gateway: str, raw: str) -> httpx.Response:
    return httpx.put(
        f"{gateway}/v1/users/{new_user()}/progress",
        content=raw.encode(),
        headers={**HEADERS, "Content-Type": "application/json"},
    )


def media_event(event_id: str, position: str, content_id: str = "video-1") -> str:
    return (
        f'{{"eventId":"{event_id}","occurredAt":"2026-11-20T10:00:00Z","clientId":"c",'
        f'"type":"media.progressed","payload":{{"contentId":"{content_id}",'
        f'"positionSeconds":{position},"durationSeconds":10,"watchedSeconds":1}}}}'
    )


def test_a_number_too_large_rejects_its_event_only(stack: Stack) -> None:
    good, huge = f"good-{uuid.uuid4()}", f"huge-{uuid.uuid4()}"
    raw = f'{{"events":[{media_event(good, "1")},{media_event(huge, "1" + "0" * 400)}]}}'
    answer = put_raw(stack.gateway_url, raw)
    assert answer.status_code == 202, answer.text
    results = {item["eventId"]: item for item in answer.json()["results"]}
    assert results[good]["status"] == "accepted"
    assert results[huge]["status"] == "rejected"
    assert "payload.positionSeconds" in results[huge]["error"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"events":[' + media_event("e", "1" + "0" * 5000) + "]}", "at most 4,300 digits"),
        ('{"events":[{"eventId":"\\ud800"}]}', "lone UTF-16 surrogate"),
        ('{"events":[' + media_event("e", "1", "x\\udc00") + "]}", "lone UTF-16 surrogate"),
    ],
    ids=["5,000-digit integer", "lone surrogate in an echoed id", "lone low surrogate"],
)
def test_text_no_parser_can_take_is_400_malformed_json(
    stack: Stack, raw: str, expected: str
) -> None:
    answer = put_raw(stack.gateway_url, raw)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "malformed_json"
    assert expected in answer.json()["error"]["message"]


def test_a_surrogate_pair_is_ordinary_text(stack: Stack) -> None:
    answer = put_raw(
        stack.gateway_url, '{"events":[' + media_event("pair", "1", "x\\ud83d\\ude00") + "]}"
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 1
