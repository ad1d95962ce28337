"""Statements become progress on the live stack; the State Resource keeps documents by ETag.

Issue 18, "Done when": a cmi5-style session sent as statements yields the same snapshot and
course view as the equivalent native events (the pure version: tests/unit/xapi).
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.xapi_support import lrs_client
from tests.support.services import Stack
from tests.unit.xapi.test_cmi5_session import AU, COURSE, NATIVE, SATISFIED, SESSION

pytestmark = pytest.mark.e2e


def _renamed(value: Any, user_id: str, course: str, au: str) -> Any:
    """The session for `user_id`, with fresh statement ids and IRIs fit for a URL path."""
    text = json.dumps(value).replace(AU, au).replace(COURSE, course)
    renamed = json.loads(text.replace('"learner-7"', json.dumps(user_id)))
    for item in renamed if isinstance(renamed, list) else [renamed]:
        if "id" in item and "actor" in item:
            item["id"] = str(uuid.uuid4())
    return renamed


def _without_extensions(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's progress: statements carry `extensions` (the IRI, progress) natives lack."""
    kept = copy.deepcopy(snapshot)
    for item in kept.get("items", {}).values():
        item.pop("extensions", None)
    for key in ("userId", "extensions", "lastEventAt", "updatedAt"):
        kept.pop(key, None)
    return kept


def test_a_cmi5_session_as_statements_folds_like_native_events(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    """Issue 18 mapping: launched … terminated and satisfied give the native snapshot."""
    course, au = f"urn:example:course:{uuid.uuid4().hex}", f"urn:example:au:{uuid.uuid4().hex}"
    statements = _renamed([*SESSION, SATISFIED], user_id, course, au)
    natives = _renamed(NATIVE, user_id, course, au)
    native_user = f"{user_id}-native"
    catalog = {"courseId": course, "items": [{"contentId": au, "kind": "lesson"}]}
    assert api.put(f"/v1/catalog/courses/{course}", json=catalog).status_code in (200, 201)

    with lrs_client(stack) as lrs:
        posted = lrs.post("/statements", json=statements)
    assert posted.status_code == 200, posted.text
    token = posted.headers["Progress-Consistency-Token"]
    written = api.put(f"/v1/users/{native_user}/progress", json={"events": natives}).json()

    views = {}
    for user, wait in ((user_id, token), (native_user, written["consistencyToken"])):
        read = api.get(f"/v1/users/{user}/progress", params={"waitFor": wait, "waitMs": 10_000})
        assert read.headers["Progress-Consistent"] == "true"
        course_view = api.get(f"/v1/users/{user}/courses/{course}").json()
        views[user] = (_without_extensions(read.json()["snapshot"]), course_view)
    from_statements, from_native = views[user_id], views[native_user]
    assert from_statements[0]["items"][au]["status"] == "passed"
    assert from_statements[0]["items"] == from_native[0]["items"]
    assert from_statements[0].get("courses") == from_native[0].get("courses")
    assert {**from_statements[1], "userId": None} == {**from_native[1], "userId": None}
    assert from_statements[1]["percentage"] == 100


def test_state_documents_with_etags(stack: Stack, user_id: str) -> None:
    """Communication 2.3 (State) and 3.1 (If-Match 412; 2.0.0's 409 without a header)."""
    params = {
        "activityId": "urn:example:au:bookmarks",
        "agent": json.dumps({"account": {"homePage": "https://lms.example.com", "name": user_id}}),
        "stateId": "bookmark",
    }
    with lrs_client(stack, "2.0.0") as lrs:
        created = lrs.put("/activities/state", params=params, json={"page": 3})
        assert created.status_code == 204
        read = lrs.get("/activities/state", params=params)
        assert read.json() == {"page": 3}
        etag = read.headers["ETag"]
        assert created.headers["ETag"] == etag
        blind = lrs.put("/activities/state", params=params, json={"page": 4})
        assert blind.status_code == 409
        stale = lrs.put(
            "/activities/state", params=params, json={"page": 4}, headers={"If-Match": '"x"'}
        )
        assert stale.status_code == 412
        merged = lrs.post("/activities/state", params=params, json={"time": 12})
        assert merged.status_code == 204
        assert lrs.get("/activities/state", params=params).json() == {"page": 3, "time": 12}
        context = {k: v for k, v in params.items() if k != "stateId"}
        assert lrs.get("/activities/state", params=context).json() == ["bookmark"]
        assert lrs.delete("/activities/state", params=context).status_code == 204
        assert lrs.get("/activities/state", params=params).status_code == 404
