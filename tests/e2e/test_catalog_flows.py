"""The course catalog over HTTP on real processes: catalog PUT, events PUT, course views GET."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from shared.adapters.mongo import CATALOG_JOBS, CERTIFICATES, SNAPSHOTS
from shared.adapters.settings import Settings
from tests.support.services import eventually

pytestmark = pytest.mark.e2e

START = datetime.now(UTC) - timedelta(days=3)


def when(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def tutorial(course_id: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "Intro to Python",
        "items": [
            {"contentId": f"{course_id}.ch-1", "kind": "chapter", "group": "module-1"},
            {"contentId": f"{course_id}.ch-2", "kind": "chapter", "group": "module-1"},
            {"contentId": f"{course_id}.ch-3", "kind": "chapter", "group": "module-2"},
            {"contentId": f"{course_id}.quiz", "kind": "quiz", "group": "module-2"},
            *extra,
        ],
    }


class Learner:
    """One user sending events one at a time and reading the course views back."""

    def __init__(self, api: httpx.Client, user_id: str, course_id: str) -> None:
        self.api = api
        self.user_id = user_id
        self.course_id = course_id
        self.sent = 0

    def send(self, minutes: int, event_type: str, payload: dict[str, Any]) -> None:
        self.sent += 1
        event = {
            "eventId": f"e-{self.sent}",
            "occurredAt": when(minutes),
            "clientId": "tutorial-web",
            "type": event_type,
            "payload": payload,
        }
        response = self.api.put(f"/v1/users/{self.user_id}/progress", json={"events": [event]})
        assert response.json()["accepted"] == 1, response.text

    def progress(self) -> dict[str, Any]:
        """The progress read once every event sent so far is in the snapshot."""

        def caught_up() -> dict[str, Any] | None:
            body: dict[str, Any] = self.api.get(f"/v1/users/{self.user_id}/progress").json()
            return body if body["snapshot"]["eventCount"] >= self.sent else None

        return eventually(caught_up)

    def view(self) -> dict[str, Any]:
        """The course view, checked to equal the one that comes with the progress read."""
        in_progress = self.progress()["courseViews"]["courses"][self.course_id]
        response = self.api.get(f"/v1/users/{self.user_id}/courses/{self.course_id}")
        assert response.status_code == 200, response.text
        alone: dict[str, Any] = response.json()
        assert alone == in_progress
        return alone

    def counts(self) -> tuple[int, int, int, list[tuple[int, int]]]:
        view = self.view()
        groups = [(group["completed"], group["required"]) for group in view["groups"]]
        return view["completed"], view["required"], view["percentage"], groups


@pytest.fixture
def course_id() -> str:
    return f"tut-{uuid.uuid4().hex[:8]}"


def test_tutorial_flow_through_http(api: httpx.Client, user_id: str, course_id: str) -> None:
    created = api.put(f"/v1/catalog/courses/{course_id}", json=tutorial(course_id))
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True
    assert created.json()["course"]["courseId"] == course_id
    assert api.get(f"/v1/catalog/courses/{course_id}").json()["items"][3] == {
        "contentId": f"{course_id}.quiz",
        "kind": "quiz",
        "required": True,
        "group": "module-2",
    }
    learner = Learner(api, user_id, course_id)
    chapter = {"contentId": f"{course_id}.ch-1", "durationSeconds": 600, "courseId": course_id}
    learner.send(0, "media.progressed", {**chapter, "positionSeconds": 570, "watchedSeconds": 570})
    assert learner.counts() == (1, 4, 25, [(1, 2), (0, 2)])
    assert learner.view()["watchedSeconds"] == 570

    learner.send(
        10, "content.progressed", {"contentId": f"{course_id}.ch-2", "status": "completed"}
    )
    assert learner.counts() == (2, 4, 50, [(2, 2), (0, 2)])

    quiz = {"contentId": f"{course_id}.quiz", "maxScore": 10}
    learner.send(20, "quiz.attempted", {**quiz, "score": 3, "passed": False})
    assert learner.counts() == (2, 4, 50, [(2, 2), (0, 2)])

    learner.send(30, "course.completed", {"courseId": course_id})
    certificate = learner.view()["certificate"]
    assert certificate["eligible"] is False
    assert "earnedAt" not in certificate
    assert certificate["refusedClaim"]["missing"] == [f"{course_id}.ch-3", f"{course_id}.quiz"]
    assert "2 of 4 required items done" in certificate["refusedClaim"]["reason"]

    learner.send(
        40, "content.progressed", {"contentId": f"{course_id}.ch-3", "status": "completed"}
    )
    assert learner.counts() == (3, 4, 75, [(2, 2), (1, 2)])
    learner.send(50, "quiz.attempted", {**quiz, "score": 8, "passed": True})
    assert learner.counts() == (4, 4, 100, [(2, 2), (2, 2)])
    assert learner.view()["certificate"]["eligible"] is True
    assert "earnedAt" not in learner.view()["certificate"]

    learner.send(60, "course.completed", {"courseId": course_id})
    certificate = learner.view()["certificate"]
    assert certificate == {"eligible": True, "earnedAt": when(60).replace("+00:00", "Z")}
    snapshot = learner.progress()["snapshot"]
    assert snapshot["courses"][course_id] == {"completedAt": when(30).replace("+00:00", "Z")}

    # An item added later: the percentage drops, the certificate earned stays.
    extra = {"contentId": f"{course_id}.ch-4", "kind": "chapter", "group": "module-3"}
    changed = api.put(f"/v1/catalog/courses/{course_id}", json=tutorial(course_id, extra))
    assert changed.status_code == 200, changed.text
    saved = changed.json()
    assert (saved["created"], saved["revision"]) == (False, 2)
    assert saved["job"]["state"] == "queued"
    assert saved["job"]["jobId"].endswith(f"/{course_id}@2")
    assert learner.counts() == (4, 5, 80, [(2, 2), (2, 2), (0, 1)])
    assert learner.view()["certificate"] == {
        "eligible": False,
        "earnedAt": when(60).replace("+00:00", "Z"),
    }


def test_invalid_catalog_puts_name_course_item_and_rule_and_store_nothing(
    api: httpx.Client, course_id: str
) -> None:
    assert api.put(f"/v1/catalog/courses/{course_id}", json=tutorial(course_id)).status_code == 201
    duplicate = tutorial(course_id, {"contentId": f"{course_id}.ch-1", "kind": "chapter"})
    response = api.put(f"/v1/catalog/courses/{course_id}", json=duplicate)
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "invalid_course",
            "message": f"course '{course_id}', item '{course_id}.ch-1' (items.4.contentId): "
            "contentId already listed as items.0; an item may appear once per course "
            "[rule: unique_item_ids]",
            "field": "items.4.contentId",
        }
    }
    bad_id = api.put(
        f"/v1/catalog/courses/{course_id}",
        json=tutorial(course_id, {"contentId": "a b", "kind": "step"}),
    )
    assert bad_id.status_code == 422
    assert bad_id.json()["error"]["field"] == "items.4.contentId"
    assert "[rule: id_format]" in bad_id.json()["error"]["message"]
    assert len(api.get(f"/v1/catalog/courses/{course_id}").json()["items"]) == 4

    malformed = api.put(
        f"/v1/catalog/courses/{course_id}",
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert api.get("/v1/catalog/courses/unknown-course").status_code == 404
    assert api.get(f"/v1/users/u1/courses/{uuid.uuid4().hex}").status_code == 404


def test_catalog_listing_pages_and_delete(api: httpx.Client, course_id: str) -> None:
    for suffix in ("a", "b", "c"):
        body = tutorial(f"{course_id}{suffix}")
        assert api.put(f"/v1/catalog/courses/{course_id}{suffix}", json=body).status_code == 201
    first = api.get("/v1/catalog/courses", params={"after": course_id, "limit": 2}).json()
    assert [entry["courseId"] for entry in first["courses"]] == [f"{course_id}a", f"{course_id}b"]
    assert first["courses"][0] == {
        "courseId": f"{course_id}a",
        "title": "Intro to Python",
        "items": 4,
        "required": 4,
    }
    assert first["next"] == f"{course_id}b"
    deleted = api.delete(f"/v1/catalog/courses/{course_id}b")
    assert deleted.status_code == 202
    assert deleted.json() == {
        "courseId": f"{course_id}b",
        "revision": 2,
        "job": {"jobId": f"demo/{course_id}b@2", "state": "queued"},
    }
    assert api.get(f"/v1/catalog/courses/{course_id}b").status_code == 404
    assert api.delete(f"/v1/catalog/courses/{course_id}b").status_code == 404
    rest = api.get("/v1/catalog/courses", params={"after": first["next"], "limit": 1}).json()
    assert rest["courses"][0]["courseId"] == f"{course_id}c"


def claimed_under_one_item(
    api: httpx.Client, db: Any, user_id: str, course_id: str
) -> dict[str, Any]:
    """Course `course_id` asks for one chapter; the user did it and claimed the course.

    Returns the course. The claim is projected, and no read judged it (no certificate yet).
    """
    one_item = {"items": [{"contentId": f"{course_id}.ch-1", "kind": "chapter"}]}
    assert api.put(f"/v1/catalog/courses/{course_id}", json=one_item).status_code == 201
    learner = Learner(api, user_id, course_id)
    done = {"contentId": f"{course_id}.ch-1", "status": "completed"}
    learner.send(0, "content.progressed", done)
    learner.send(10, "course.completed", {"courseId": course_id})

    def projected() -> bool | None:
        found = db[SNAPSHOTS].find_one({"u": user_id}, {"s": 1})
        return True if found is not None and found["s"] >= 2 else None

    eventually(projected)
    assert db[CERTIFICATES].find_one({"u": user_id, "c": course_id}) is None
    return one_item


def certified_by_finished_job(db: Any, job_id: str, user_id: str, course_id: str) -> None:
    """The projector finished the job, and it recorded the user's certificate of the claim."""

    def finished() -> dict[str, Any] | None:
        job = db[CATALOG_JOBS].find_one({"_id": job_id})
        return job if job is not None and job["state"] == "finished" else None

    job = eventually(finished)
    assert job["done"] == job["total"] >= 1
    certificate = db[CERTIFICATES].find_one({"u": user_id, "c": course_id})
    assert certificate is not None, (
        "the job judged the claim under the version it replaced or removed"
    )
    assert certificate["earnedAt"] == (START + timedelta(minutes=10)).isoformat()


def test_a_projector_judges_a_changed_course_s_claims_with_no_read_in_between(
    api: httpx.Client, settings: Settings, user_id: str, course_id: str
) -> None:
    """The PUT answers before any claim is judged; the projector's job records the certificate."""
    with MongoClient(settings.mongo_url, tz_aware=True) as client:
        db = client[settings.mongo_database]
        one_item = claimed_under_one_item(api, db, user_id, course_id)
        two_items = {"items": [*one_item["items"], {"contentId": "later", "kind": "chapter"}]}
        changed = api.put(f"/v1/catalog/courses/{course_id}", json=two_items)
        assert changed.status_code == 200, changed.text
        certified_by_finished_job(db, changed.json()["job"]["jobId"], user_id, course_id)


def test_a_projector_judges_a_removed_course_s_claims_after_the_delete_answered(
    api: httpx.Client, settings: Settings, user_id: str, course_id: str
) -> None:
    """The DELETE answers 202 before any claim is judged; the projector's job records it."""
    with MongoClient(settings.mongo_url, tz_aware=True) as client:
        db = client[settings.mongo_database]
        claimed_under_one_item(api, db, user_id, course_id)
        removed = api.delete(f"/v1/catalog/courses/{course_id}")
        assert removed.status_code == 202, removed.text
        assert removed.json()["job"]["state"] == "queued"
        assert api.get(f"/v1/catalog/courses/{course_id}").status_code == 404
        certified_by_finished_job(db, removed.json()["job"]["jobId"], user_id, course_id)
