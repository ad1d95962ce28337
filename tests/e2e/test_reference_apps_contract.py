"""The five reference apps (../shared/reference) on the integration contract, end to end.

Each test is one app's flow where its design asks for a piece of the contract: the tutorial
app's per-tutorial reset, its "POST answers the new state" and its legacy import; the video
LMS's heartbeat extensions; the learning-path spec's guest who signs in; the workout app's
saved program imported.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.services import Stack

pytestmark = pytest.mark.e2e

START = datetime.now(UTC) - timedelta(days=2)


def sent(event_id: str, minutes: int, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": (START + timedelta(minutes=minutes)).isoformat(),
        "clientId": "reference-app",
        "type": event_type,
        "payload": payload,
    }


def write_and_read(api: httpx.Client, user: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The tutorial app's 'POST answers the new state': one write, one read with waitFor."""
    written = api.put(f"/v1/users/{user}/progress", json={"events": events}).json()
    assert written["rejected"] == 0, written
    read = api.get(
        f"/v1/users/{user}/progress",
        params={"waitFor": written["consistencyToken"], "waitMs": 10_000},
    )
    assert read.headers["Progress-Consistent"] == "true"
    body: dict[str, Any] = read.json()
    return body


def test_tutorial_app_resets_one_tutorial_and_reads_its_writes(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    course = f"tut-{uuid.uuid4().hex[:6]}"
    items = [{"contentId": f"{course}.ch-{n}", "kind": "chapter"} for n in (1, 2)]
    api.put(f"/v1/catalog/courses/{course}", json={"items": items})
    state = write_and_read(
        api,
        user_id,
        [
            sent(
                "c1",
                1,
                "content.progressed",
                {"contentId": f"{course}.ch-1", "status": "completed"},
            ),
            sent(
                "other",
                2,
                "content.progressed",
                {"contentId": "other-tut.ch-1", "status": "completed"},
            ),
        ],
    )
    assert state["courseViews"]["courses"][course]["completed"] == 1

    reset = api.delete(
        f"/v1/users/{user_id}/progress",
        params={"courseId": course},
        headers={"Idempotency-Key": f"reset-{course}"},
    ).json()
    after = api.get(
        f"/v1/users/{user_id}/progress",
        params={"waitFor": reset["consistencyToken"], "waitMs": 10_000},
    ).json()
    assert set(after["snapshot"]["items"]) == {"other-tut.ch-1"}


def test_tutorial_and_workout_apps_import_their_saved_state(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    tutorial_saved = {
        "items": {
            "py.ch-1": {
                "status": "completed",
                "media": {"lastPosition": 300, "duration": 310, "watchedSeconds": 290},
            },
            "py.quiz": {
                "status": "passed",
                "quiz": {"attempts": 2, "bestScore": 9, "lastScore": 9, "maxScore": 10},
            },
        }
    }
    workout_saved = {
        "items": {
            "w1d1": {"status": "completed", "rating": "hard"},
            "w1d2": {"status": "not_started", "scheduledFor": "2026-12-01"},
        }
    }
    for user, saved in ((f"{user_id}-tut", tutorial_saved), (f"{user_id}-gym", workout_saved)):
        done = api.post(f"/v1/users/{user}/import", json={"state": saved}).json()
        snapshot = api.get(
            f"/v1/users/{user}/progress",
            params={"waitFor": done["consistencyToken"], "waitMs": 10_000},
        ).json()["snapshot"]
        for content_id, item in saved["items"].items():
            assert snapshot["items"][content_id]["status"] == item["status"]
    gym = api.get(f"/v1/users/{user_id}-gym/progress").json()["snapshot"]["items"]
    assert (gym["w1d1"]["rating"], gym["w1d2"]["scheduledFor"]) == ("hard", "2026-12-01")


def test_video_lms_heartbeats_carry_their_extensions(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    beats = [
        sent(
            f"hb-{n}",
            n,
            "media.progressed",
            {
                "contentId": "lecture-1",
                "positionSeconds": 60 * n,
                "durationSeconds": 600,
                "watchedSeconds": 60,
                "extensions": {"seekEvents": n, "pauseEvents": 1, "playbackSpeed": 1.25},
            },
        )
        for n in (1, 2, 3)
    ]
    item = write_and_read(api, user_id, beats)["snapshot"]["items"]["lecture-1"]
    assert item["extensions"] == {"seekEvents": 3, "pauseEvents": 1, "playbackSpeed": 1.25}
    assert item["media"]["watchedSeconds"] == 180


def test_learning_path_guest_signs_in_and_keeps_onboarding_and_path(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    guest = f"anon-{uuid.uuid4().hex[:8]}"
    write_and_read(
        api,
        guest,
        [
            sent("onb", 1, "onboarding.completed", {"pathId": "frontend"}),
            sent("path", 2, "activePath.set", {"pathId": "frontend"}),
            sent(
                "s1", 3, "content.progressed", {"contentId": "html-basics", "status": "completed"}
            ),
        ],
    )
    merged = api.post(f"/v1/users/{user_id}/merge", json={"from": guest}).json()
    account = api.get(
        f"/v1/users/{user_id}/progress",
        params={"waitFor": merged["consistencyToken"], "waitMs": 10_000},
    ).json()["snapshot"]
    assert account["onboarding"]["pathId"] == "frontend"
    assert account["activePathId"] == "frontend"
    assert account["items"]["html-basics"]["status"] == "completed"
