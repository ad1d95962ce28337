"""No value can make a snapshot unreadable, and one that is anyway blocks no one else."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from shared.adapters.mongo import SNAPSHOTS, mongo_client, user_key
from shared.adapters.settings import Settings
from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": [value]}
    return value


def progressed(event_id: str, second: int, state: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"contentId": f"lesson-{second}", "status": "completed"}
    if state is not None:
        payload["interaction"] = {"interactionId": "q1", "state": state}
    return {
        "eventId": event_id,
        "occurredAt": f"2026-11-20T10:00:{second:02d}Z",
        "clientId": "poison-test",
        "type": "content.progressed",
        "payload": payload,
    }


async def corrupt(settings: Settings, user: str) -> None:
    """Store a snapshot no reader can parse, as an older version could have written it."""
    client = mongo_client(settings)
    try:
        unreadable = '{"tenantId": "demo", "items": ' + "[" * 400 + "]" * 400 + "}"
        await client[settings.mongo_database][SNAPSHOTS].update_one(
            {"_id": user_key("demo", user)}, {"$set": {"state": unreadable}}
        )
    finally:
        await client.close()


def test_a_deep_state_is_rejected_by_field_and_the_rest_of_the_batch_goes_on(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    body = api.put(
        f"/v1/users/{user_id}/progress",
        json={"events": [progressed("deep", 1, deep(300)), progressed("fine", 2, {"k": 1})]},
    ).json()
    deep_result, fine = body["results"]
    assert deep_result["status"] == "rejected"
    assert deep_result["field"] == "payload.interaction.state"
    assert "levels" in deep_result["error"]
    assert fine["status"] == "accepted"


def test_an_unreadable_snapshot_is_recomputed_and_blocks_no_one(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    api.put(url, json={"events": [progressed("p-1", 1)]})
    eventually(lambda: True if api.get(url).json()["snapshot"]["eventCount"] == 1 else None)
    asyncio.run(corrupt(stack.settings, user_id))

    read = api.get(url)
    assert read.status_code == 200
    assert read.json()["snapshot"]["eventCount"] == 1

    other = f"{user_id}-other"
    api.put(url, json={"events": [progressed("p-2", 2)]})
    api.put(f"/v1/users/{other}/progress", json={"events": [progressed("o-1", 1)]})
    eventually(lambda: True if api.get(url).json()["snapshot"]["eventCount"] == 2 else None)
    eventually(
        lambda: (
            True
            if api.get(f"/v1/users/{other}/progress").json()["snapshot"]["eventCount"] == 1
            else None
        )
    )
    course = {"courseId": "poison-course", "items": [{"contentId": "lesson-1", "kind": "step"}]}
    assert api.put("/v1/catalog/courses/poison-course", json=course).status_code in (200, 201)
