"""Guest merge on the live stack: a guest's progress moves to the account, once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


def step(event_id: str, content: str, minute: int) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": f"2026-11-20T10:{minute:02d}:00Z",
        "clientId": "merge-test",
        "type": "content.progressed",
        "payload": {"contentId": content, "status": "completed"},
    }


def counted(api: httpx.Client, user: str, count: int) -> dict[str, Any]:
    url = f"/v1/users/{user}/progress"

    def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(url).json()
        return body if body["snapshot"]["eventCount"] == count else None

    return eventually(probe)


def test_a_guest_merges_into_the_account_idempotently(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    guest, account = f"{user_id}-guest", user_id
    api.put(
        f"/v1/users/{guest}/progress",
        json={"events": [step("g-1", "intro", 1), step("both", "ch-1", 2)]},
    )
    api.put(
        f"/v1/users/{account}/progress",
        json={"events": [step("a-1", "ch-2", 3), step("both", "ch-1", 2)]},
    )
    counted(api, guest, 2)
    counted(api, account, 2)

    merged = api.post(f"/v1/users/{account}/merge", json={"from": guest})
    assert merged.status_code == 202
    assert {r["eventId"] for r in merged.json()["results"]} == {"g-1", "both"}
    read = api.get(
        f"/v1/users/{account}/progress",
        params={"waitFor": merged.json()["consistencyToken"], "waitMs": 10_000},
    )
    assert read.headers["Progress-Consistent"] == "true"
    assert set(read.json()["snapshot"]["items"]) == {"intro", "ch-1", "ch-2"}
    assert read.json()["snapshot"]["eventCount"] == 3
    left = counted(api, guest, 3)
    assert left["snapshot"]["items"] == {}
    assert left["mergedInto"] == account

    again = api.post(f"/v1/users/{account}/merge", json={"from": guest})
    assert again.status_code == 202
    assert again.json()["remaining"] == 0
    assert counted(api, account, 3)["snapshot"]["eventCount"] == 3
    assert api.post(f"/v1/users/{account}/merge", json={"from": account}).status_code == 422
    assert api.post(f"/v1/users/{account}/merge", json={"from": "has space"}).status_code == 422
    assert api.post(f"/v1/users/{account}/merge", json={"guest": guest}).status_code == 422


def test_a_saved_state_imports_once_and_a_later_real_event_wins(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/import"
    state = {
        "items": {
            "ch-1": {"status": "completed", "completedAt": "2026-11-01T10:00:00Z"},
            "video-1": {"status": "in_progress", "media": {"lastPosition": 40, "duration": 300}},
        },
        "activePathId": "frontend",
    }
    first = api.post(url, json={"state": state, "asOf": "2026-11-02T00:00:00Z"})
    assert first.status_code == 202
    accepted = first.json()["accepted"]
    read = api.get(
        f"/v1/users/{user_id}/progress",
        params={"waitFor": first.json()["consistencyToken"], "waitMs": 10_000},
    ).json()
    assert read["snapshot"]["items"]["ch-1"]["status"] == "completed"
    assert read["snapshot"]["activePathId"] == "frontend"

    again = api.post(url, json={"state": state})
    assert again.status_code == 202
    api.put(
        f"/v1/users/{user_id}/progress",
        json={"events": [{**step("real", "video-1", 5), "occurredAt": "2026-11-05T10:00:00Z"}]},
    )
    after = counted(api, user_id, accepted + 1)
    assert after["snapshot"]["items"]["video-1"]["status"] == "completed"

    bad = api.post(url, json={"state": {"items": {"x": {"status": "done"}}}})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "state.items.x.status"
    assert api.post(url, json={"state": {}, "extra": 1}).status_code == 422


def quiz_state(items: int) -> dict[str, Any]:
    """A small saved state that derives 101 events per item (a status and 100 quiz attempts)."""
    quiz = {"status": "completed", "quiz": {"attempts": 100, "bestScore": 1, "maxScore": 2}}
    return {"items": {f"q-{n}": quiz for n in range(items)}}


def test_an_import_deriving_more_than_the_limit_is_a_413_and_stores_nothing(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    """25 items of 2.3 KB used to be accepted as 2,525 events at the price of one."""
    url = f"/v1/users/{user_id}/import"
    state = quiz_state(25)
    refused = api.post(url, json={"state": state})
    assert refused.status_code == 413, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("too_many_events", "state")
    assert "2525 events" in error["message"]
    assert "PROGRESS_MAX_EVENTS_PER_REQUEST" in error["message"]

    small = api.post(url, json={"state": quiz_state(1)})
    assert small.json()["accepted"] == 101
    read = api.get(
        f"/v1/users/{user_id}/progress",
        params={"waitFor": small.json()["consistencyToken"], "waitMs": 10_000},
    )
    assert read.headers["Progress-Consistent"] == "true"
    assert read.json()["snapshot"]["eventCount"] == 101


def test_a_large_guest_merges_a_page_per_call_until_nothing_remains(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    """A merge used to load and move the guest's whole log (up to 50,000 events) at once."""
    guest, account = f"{user_id}-guest", user_id
    for first in (0, 500, 1000):
        count = 500 if first < 1000 else 20
        events = [step(f"g-{n}", f"c-{n}", n % 60) for n in range(first, first + count)]
        assert api.put(f"/v1/users/{guest}/progress", json={"events": events}).status_code == 202
    counted(api, guest, 1020)

    answers = [api.post(f"/v1/users/{account}/merge", json={"from": guest}) for _ in range(3)]

    assert [a.status_code for a in answers] == [202] * 3
    assert [a.json()["accepted"] for a in answers] == [500, 500, 20]
    assert [a.json()["remaining"] for a in answers] == [520, 20, 0]
    moved = [r["eventId"] for a in answers for r in a.json()["results"]]
    assert sorted(moved) == sorted(f"g-{n}" for n in range(1020))
    assert counted(api, account, 1020)["snapshot"]["eventCount"] == 1020
    assert counted(api, guest, 1021)["mergedInto"] == account
    done = api.post(f"/v1/users/{account}/merge", json={"from": guest}).json()
    assert (done["accepted"], done["remaining"]) == (0, 0)
