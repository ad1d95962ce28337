"""The integration contract on the live stack: scoped and idempotent reset, extensions, clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


def progressed(event_id: str, content: str, **payload: Any) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": "2026-11-20T10:00:00Z",
        "clientId": "contract-test",
        "type": "content.progressed",
        "payload": {"contentId": content, "status": "completed", **payload},
    }


def snapshot_with(api: httpx.Client, url: str, count: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        snapshot: dict[str, Any] = api.get(url).json()["snapshot"]
        return snapshot if snapshot["eventCount"] == count else None

    return eventually(probe)


def test_a_reset_scoped_to_a_course_clears_its_items_once_whatever_the_retries(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    course = {"courseId": "reset-course", "items": [{"contentId": "ch-1", "kind": "chapter"}]}
    assert api.put("/v1/catalog/courses/reset-course", json=course).status_code in (200, 201)
    url = f"/v1/users/{user_id}/progress"
    api.put(url, json={"events": [progressed("a", "ch-1"), progressed("b", "other")]})
    snapshot_with(api, url, 2)

    key = {"Idempotency-Key": f"reset-{user_id}"}
    first = api.delete(url, params={"courseId": "reset-course"}, headers=key)
    assert first.status_code == 202
    assert first.json()["results"][0]["eventId"] == key["Idempotency-Key"]
    assert "note" not in first.json()
    assert set(snapshot_with(api, url, 3)["items"]) == {"other"}

    api.put(
        url,
        json={"events": [{**progressed("c", "ch-1"), "occurredAt": datetime.now(UTC).isoformat()}]},
    )
    snapshot_with(api, url, 4)
    retried = api.delete(url, params={"courseId": "reset-course"}, headers=key)
    assert retried.status_code == 202
    assert set(snapshot_with(api, url, 4)["items"]) == {"ch-1", "other"}

    bare = api.delete(url, params={"contentId": ["other"]})
    assert "Idempotency-Key" in bare.json()["note"]
    assert api.delete(url, params={"courseId": "no-such-course"}).status_code == 404
    assert api.delete(url, headers={"Idempotency-Key": "has space"}).status_code == 422


def test_extensions_travel_as_they_are_and_a_fast_clock_is_clamped(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    ahead = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    heartbeat = {
        "eventId": "hb-1",
        "occurredAt": ahead,
        "clientId": "player",
        "type": "media.progressed",
        "payload": {
            "contentId": "video-1",
            "positionSeconds": 30,
            "extensions": {"seekEvents": 2, "pauseEvents": 1, "playbackSpeed": 1.5},
        },
    }
    too_big = {
        **progressed("big", "x"),
        "payload": {"contentId": "x", "status": "completed", "extensions": {"k": "v" * 5000}},
    }
    body = api.put(url, json={"events": [heartbeat, too_big]}).json()
    assert body["results"][0]["clockAdjusted"] is True
    assert body["results"][1]["field"] == "payload.extensions"
    snapshot = snapshot_with(api, url, 1)
    assert snapshot["items"]["video-1"]["extensions"] == heartbeat["payload"]["extensions"]
    assert snapshot["lastUpdated"] < ahead


def test_a_sent_reset_naming_a_course_is_expanded_into_its_items(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    course = {"courseId": "sent-reset", "items": [{"contentId": "sr-1", "kind": "chapter"}]}
    api.put("/v1/catalog/courses/sent-reset", json=course)
    url = f"/v1/users/{user_id}/progress"
    api.put(url, json={"events": [progressed("a", "sr-1"), progressed("b", "kept")]})
    snapshot_with(api, url, 2)
    reset = {
        "eventId": "r-1",
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": "contract-test",
        "type": "progress.reset",
        "payload": {"courseId": "sent-reset"},
    }
    unknown = {**reset, "eventId": "r-2", "payload": {"courseId": "no-such-course"}}
    body = api.put(url, json={"events": [reset, unknown]}).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"]
    assert body["results"][1]["field"] == "payload"
    assert set(snapshot_with(api, url, 3)["items"]) == {"kept"}
