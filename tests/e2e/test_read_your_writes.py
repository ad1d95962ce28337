"""Read-your-writes on the live stack: a write's token makes the next read reflect it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.services import Stack

pytestmark = pytest.mark.e2e


def rated(event_id: str, content: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": "2026-11-20T10:00:00Z",
        "clientId": "ryw-test",
        "type": "content.rated",
        "payload": {"contentId": content, "rating": "easy"},
    }


def test_a_read_with_the_writes_token_reflects_it_at_once(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    written = api.put(url, json={"events": [rated(f"e-{n}", f"c-{n}") for n in range(3)]}).json()
    token = written["consistencyToken"]

    read = api.get(url, params={"waitFor": token, "waitMs": 10_000})

    assert read.headers["Progress-Consistent"] == "true"
    assert read.json()["snapshot"]["eventCount"] == 3
    assert "Progress-Consistent" not in api.get(url).headers


def test_large_writes_bulk_tokens_and_refusals(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    many = api.put(url, json={"events": [rated(f"m-{n}", f"c-{n}") for n in range(60)]}).json()
    read = api.get(url, params={"waitFor": many["consistencyToken"], "waitMs": 10_000})
    assert read.headers["Progress-Consistent"] == "true"
    assert read.json()["snapshot"]["eventCount"] == 60

    other = f"{user_id}-b"
    bulk = api.post(
        "/v1/events",
        json={
            "events": [
                {**rated("b-1", "x"), "userId": user_id},
                {**rated("b-2", "y"), "userId": other},
            ]
        },
    ).json()
    assert set(bulk["consistencyTokens"]) == {user_id, other}
    mine = bulk["consistencyTokens"][user_id]
    view = api.get(f"/v1/users/{other}/progress", params={"waitFor": mine})
    assert view.status_code == 400
    assert view.json()["error"]["code"] == "invalid_consistency_token"
    assert api.get(url, params={"waitFor": "forged.token"}).status_code == 400
    assert api.get(url, params={"waitFor": mine, "waitMs": 20_000}).status_code == 422
