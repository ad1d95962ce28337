"""Per-user quotas at the door: a write past one is refused by name, and nothing is stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


def answer(event_id: str, second: int, interaction: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": f"2026-11-20T10:{second // 60:02d}:{second % 60:02d}Z",
        "clientId": "quota-test",
        "type": "content.progressed",
        "payload": {
            "contentId": "exam",
            "status": "in_progress",
            "interaction": {"interactionId": interaction, "state": {"choice": "a"}},
        },
    }


def test_the_interaction_quota_refuses_the_101st_interaction_by_name(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    first = [answer(f"e-{n}", n, f"q-{n}") for n in range(100)]
    assert api.put(url, json={"events": first}).json()["accepted"] == 100
    eventually(lambda: True if api.get(url).json()["snapshot"]["eventCount"] == 100 else None)

    body = api.put(
        url, json={"events": [answer("e-new", 200, "q-new"), answer("e-again", 201, "q-7")]}
    ).json()

    refused, updated = body["results"]
    assert refused["status"] == "rejected"
    assert refused["code"] == "quota"
    assert refused["field"] == "payload.interaction.interactionId"
    assert "interactions" in refused["error"]
    assert updated["status"] == "accepted"
    eventually(lambda: True if api.get(url).json()["snapshot"]["eventCount"] == 101 else None)
    log = api.get(url, params={"since": "0"}).json()["events"]
    assert "e-new" not in {event["eventId"] for event in log}
