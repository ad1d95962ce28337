"""Bad input: the right status or a per-event rejection naming the field; nothing stored for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.kafka_probe import topic_size
from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


def event(event_id: str, content_id: str = "lesson-1", minutes: float = -1) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(),
        "clientId": "input-test",
        "type": "content.progressed",
        "payload": {"contentId": content_id, "status": "in_progress"},
    }


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b'{"events": [', {"Content-Type": "application/json"}, 400, "malformed_json"),
        (b'{"events": []}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (b'{"events": []}', {}, 415, "unsupported_media_type"),
        (b'{"events": {}}', {"Content-Type": "application/json"}, 422, "invalid_request"),
        (
            b'{"events": [], "extra": 1}',
            {"Content-Type": "application/json"},
            422,
            "invalid_request",
        ),
        (b"[]", {"Content-Type": "application/json"}, 422, "invalid_request"),
    ],
    ids=["malformed-json", "text-plain", "no-content-type", "events-not-list", "extra", "array"],
)
def test_malformed_envelopes(
    api: httpx.Client,
    stack: Stack,
    user_id: str,
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    before = topic_size(stack.settings)
    response = api.put(f"/v1/users/{user_id}/progress", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert topic_size(stack.settings) == before


def test_oversize_body_and_too_many_events_are_413(
    api: httpx.Client, stack: Stack, user_id: str
) -> None:
    before = topic_size(stack.settings)
    padding = "x" * (1024 * 1024)
    big = api.put(
        f"/v1/users/{user_id}/progress",
        content=b'{"events": [], "clientUpdatedAt": "' + padding.encode() + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "body_too_large"
    many = api.put(
        f"/v1/users/{user_id}/progress", json={"events": [event(f"e-{i}") for i in range(501)]}
    )
    assert many.status_code == 413
    assert many.json()["error"] == {
        "code": "too_many_events",
        "message": "501 events in one request; at most 500 are accepted "
        "(PROGRESS_MAX_EVENTS_PER_REQUEST): split the request",
        "field": "events",
    }
    assert topic_size(stack.settings) == before


def test_each_bad_event_is_rejected_alone_with_its_field(
    api: httpx.Client, stack: Stack, user_id: str
) -> None:
    good = event("good-1")
    bad = {
        "unknown type": {**event("b-type"), "type": "content.teleported"},
        "payload.contentId": {
            **event("b-ws"),
            "payload": {"contentId": "has space", "status": "completed"},
        },
        "eventId": {**event("x" * 129)},
        "occurredAt": {**event("b-time"), "occurredAt": "yesterday"},
        "payload.status": {**event("b-status"), "payload": {"contentId": "a", "status": "done"}},
        "extra field": {**event("b-extra"), "surprise": True},
        "not an object": "just a string",
    }
    before = topic_size(stack.settings)
    response = api.put(f"/v1/users/{user_id}/progress", json={"events": [good, *bad.values()]})
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, len(bad))
    assert body["results"][0] == {"eventId": "good-1", "status": "accepted"}
    assert [r.get("code") for r in body["results"][1:]] == ["invalid_event"] * len(bad)
    errors = {name: result["error"] for name, result in zip(bad, body["results"][1:], strict=True)}
    assert "type" in errors["unknown type"]
    assert "payload.contentId" in errors["payload.contentId"]
    assert "eventId" in errors["eventId"]
    assert "occurredAt" in errors["occurredAt"]
    assert "payload.status" in errors["payload.status"]
    assert "surprise" in errors["extra field"]
    assert topic_size(stack.settings) == before + 1


def test_operator_like_ids_are_stored_as_plain_keys(api: httpx.Client, user_id: str) -> None:
    ids = ["$where", "a.b", "$set.x", "ü.$"]
    response = api.put(
        f"/v1/users/{user_id}/progress",
        json={"events": [event(f"{i}", content_id=cid) for i, cid in enumerate(ids)]},
    )
    assert response.json()["accepted"] == len(ids)

    def stored() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/v1/users/{user_id}/progress").json()
        return body if body["snapshot"]["eventCount"] == len(ids) else None

    assert sorted(eventually(stored)["snapshot"]["items"]) == sorted(ids)


def test_invalid_user_id_in_path_or_bulk_item(api: httpx.Client, user_id: str) -> None:
    assert api.get("/v1/users/has%20space/progress").status_code == 422
    response = api.post(
        "/v1/events",
        json={
            "events": [
                {**event("bulk-1"), "userId": user_id},
                {**event("bulk-2"), "userId": "a b"},
                event("bulk-3"),
            ]
        },
    )
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected"]
    assert "userId" in results[1]["error"]
    assert "userId" in results[2]["error"]


def test_bulk_import_reaches_each_users_snapshot(api: httpx.Client, user_id: str) -> None:
    second = f"{user_id}-b"
    events = [{**event("i-1"), "userId": user_id}, {**event("i-2", "lesson-2"), "userId": second}]
    response = api.post("/v1/events", json={"events": events})
    assert response.json()["accepted"] == 2
    for user in (user_id, second):
        eventually(
            lambda user=user: (
                True
                if api.get(f"/v1/users/{user}/progress").json()["snapshot"]["eventCount"] == 1
                else None
            )
        )
    resent = api.put(f"/v1/users/{user_id}/progress", json={"events": [event("i-1")]})
    assert resent.json()["accepted"] == 1


def test_reset_keeps_history_and_empties_the_snapshot(api: httpx.Client, user_id: str) -> None:
    url = f"/v1/users/{user_id}/progress"
    api.put(url, json={"events": [event("before-reset", minutes=-2)]})
    eventually(lambda: True if api.get(url).json()["snapshot"]["items"] else None)
    reset = api.delete(url)
    assert reset.status_code == 202
    assert reset.json()["results"][0]["eventId"].startswith("reset-")

    def cleared() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(url, params={"since": "0"}).json()
        return body if body["snapshot"]["eventCount"] == 2 else None

    body = eventually(cleared)
    assert body["snapshot"]["items"] == {}
    assert [e["type"] for e in body["events"]] == ["content.progressed", "progress.reset"]


def test_request_id_is_echoed(api: httpx.Client, user_id: str) -> None:
    response = api.get(f"/v1/users/{user_id}/progress", headers={"X-Request-ID": "trace-me-42"})
    assert response.headers["X-Request-ID"] == "trace-me-42"
