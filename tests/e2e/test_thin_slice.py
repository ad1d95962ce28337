"""One event end to end: HTTP → Kafka → projector → MongoDB → HTTP, on real processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.adapters.settings import Settings
from tests.support.services import Stack, eventually, metrics_text

pytestmark = pytest.mark.e2e


def progressed(
    event_id: str, content_id: str, status: str, minutes_ago: int = 10
) -> dict[str, Any]:
    occurred = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "eventId": event_id,
        "occurredAt": occurred.isoformat(),
        "clientId": "test-client",
        "type": "content.progressed",
        "payload": {"contentId": content_id, "status": status, "score": 7},
    }


def snapshot_with(api: httpx.Client, user_id: str, count: int) -> dict[str, Any] | None:
    body: dict[str, Any] = api.get(f"/v1/users/{user_id}/progress").json()
    return body if body["snapshot"]["eventCount"] >= count else None


def test_event_reaches_the_snapshot(api: httpx.Client, user_id: str) -> None:
    response = api.put(
        f"/v1/users/{user_id}/progress",
        json={"events": [progressed("e-1", "lesson-1", "completed")]},
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer.pop("consistencyToken")
    assert answer == {
        "accepted": 1,
        "rejected": 0,
        "results": [{"eventId": "e-1", "status": "accepted"}],
    }
    assert response.headers["X-Request-ID"]

    body = eventually(lambda: snapshot_with(api, user_id, 1))
    item = body["snapshot"]["items"]["lesson-1"]
    assert item["status"] == "completed"
    assert item["score"] == 7
    assert body["events"] == []
    assert body["cursor"] != "0"

    page = api.get(f"/v1/users/{user_id}/progress", params={"since": "0"}).json()
    assert [event["eventId"] for event in page["events"]] == ["e-1"]
    assert page["events"][0]["userId"] == user_id
    assert page["cursor"] == body["cursor"]
    assert page["hasMore"] is False


def test_resent_event_is_applied_once_and_bad_event_does_not_sink_the_batch(
    api: httpx.Client, user_id: str
) -> None:
    first = progressed("e-1", "lesson-1", "in_progress", minutes_ago=20)
    bad = {**progressed("e-bad", "lesson-2", "completed"), "type": "content.teleported"}
    second = progressed("e-2", "lesson-2", "completed", minutes_ago=5)
    response = api.put(f"/v1/users/{user_id}/progress", json={"events": [first, bad, second]})
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 1)
    assert body["results"][1]["status"] == "rejected"
    assert "type" in body["results"][1]["error"]

    eventually(lambda: snapshot_with(api, user_id, 2))
    again = api.put(f"/v1/users/{user_id}/progress", json={"events": [second, first]})
    assert again.json()["accepted"] == 2
    marker = progressed("e-3", "lesson-3", "completed", minutes_ago=1)
    api.put(f"/v1/users/{user_id}/progress", json={"events": [marker]})
    final = eventually(lambda: snapshot_with(api, user_id, 3))
    assert final["snapshot"]["eventCount"] == 3
    page = api.get(f"/v1/users/{user_id}/progress", params={"since": "0"}).json()
    assert sorted(event["eventId"] for event in page["events"]) == ["e-1", "e-2", "e-3"]


def test_cursor_pages_through_the_log(api: httpx.Client, user_id: str) -> None:
    events = [progressed(f"e-{i:02d}", f"item-{i}", "completed", 30 - i) for i in range(7)]
    api.put(f"/v1/users/{user_id}/progress", json={"events": events})
    eventually(lambda: snapshot_with(api, user_id, 7))
    seen: list[str] = []
    cursor = "0"
    while True:
        page = api.get(f"/v1/users/{user_id}/progress", params={"since": cursor, "limit": 3}).json()
        seen.extend(event["eventId"] for event in page["events"])
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    assert sorted(seen) == [f"e-{i:02d}" for i in range(7)]
    assert api.get(f"/v1/users/{user_id}/progress", params={"since": cursor}).json()["events"] == []


def test_writes_need_a_valid_api_key(stack: Stack, user_id: str) -> None:
    url = f"{stack.gateway_url}/v1/users/{user_id}/progress"
    body = {"events": [progressed("e-1", "lesson-1", "completed")]}
    missing = httpx.put(url, json=body)
    wrong = httpx.put(url, json=body, headers={"Authorization": "Bearer nope"})
    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"


def test_health_readiness_and_metrics(stack: Stack) -> None:
    for port in (
        stack.settings.gateway_port,
        stack.settings.projector_port,
        stack.settings.retry_worker_port,
    ):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").status_code == 200
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"kafka": "ok", "mongodb": "ok"}
    assert "progress_gateway_events_total" in metrics_text(stack.gateway)
    projector_metrics = metrics_text(stack.projector)
    assert 'progress_projector_events_total{outcome="applied"}' in projector_metrics
    assert "progress_retry_events_total" in metrics_text(stack.retry_worker)


def test_metrics_are_not_served_on_the_public_ports(stack: Stack) -> None:
    """Issue 23: /metrics is served on PROGRESS_METRICS_PORT only (loopback by default)."""
    for port in (
        stack.settings.gateway_port,
        stack.settings.projector_port,
        stack.settings.retry_worker_port,
    ):
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
    assert Settings().metrics_host == "127.0.0.1"
