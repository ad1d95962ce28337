"""Per-learner xAPI quotas and the attachment page bound (issue 23, item 8).

A gateway of its own with tiny bounds (3 statements, 2 documents, 1,000 bytes of attachments
per learner; 600 bytes of attachments per page), on the session's broker and database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings
from shared.xapi import write_multipart
from tests.e2e.xapi_support import KEY_ID, attachment_for, statement_for
from tests.support.services import TEST_API_KEY, Stack, service_process

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lrs(settings: Settings, stack: Stack, workdir: Path) -> Iterator[httpx.Client]:
    """An LRS client of a gateway whose xAPI quotas are tiny."""
    own = settings.model_copy(
        update={
            "gateway_port": free_port(),
            "xapi_quota_statements": 3,
            "xapi_quota_documents": 2,
            "xapi_quota_attachment_bytes": 1000,
            "xapi_page_attachment_bytes": 600,
        }
    )
    process = service_process(
        own, "quota-gateway", "services.gateway", own.gateway_port, workdir / "logs"
    )
    process.start(timeout=60)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{own.gateway_port}/xapi",
            auth=(KEY_ID, TEST_API_KEY),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=10.0,
        ) as client:
            yield client
    finally:
        process.stop()


def over_quota(answer: httpx.Response, field: str) -> bool:
    assert answer.status_code == 413, answer.text
    error: dict[str, Any] = answer.json()["error"]
    return error["code"] == "quota" and error["field"] == field


def stored(lrs: httpx.Client, statement: dict[str, Any]) -> bool:
    return lrs.get("/statements", params={"statementId": statement["id"]}).status_code == 200


def with_attachment(user_id: str, size: int) -> tuple[dict[str, Any], tuple[str, bytes]]:
    """A statement with `size` bytes of attachment data, as a multipart body."""
    data = uuid.uuid4().bytes * (size // 16)
    sha2 = hashlib.sha256(data).hexdigest()
    sent = statement_for(user_id, attachments=[attachment_for(data)])
    return sent, write_multipart(json.dumps(sent).encode(), [(sha2, "text/plain", data)])


def post_multipart(lrs: httpx.Client, body: tuple[str, bytes]) -> httpx.Response:
    return lrs.post("/statements", content=body[1], headers={"Content-Type": body[0]})


def test_statements_past_the_quota_are_413_and_nothing_is_stored(
    lrs: httpx.Client, user_id: str
) -> None:
    first, second, third = (statement_for(user_id) for _ in range(3))
    extra, again = statement_for(user_id), statement_for(user_id)
    assert lrs.post("/statements", json=[first, second]).status_code == 200
    assert over_quota(lrs.post("/statements", json=[third, extra]), "[0].actor")
    assert not stored(lrs, third)
    assert not stored(lrs, extra)
    assert lrs.post("/statements", json=third).status_code == 200
    assert over_quota(lrs.post("/statements", json=again), "[0].actor")
    assert lrs.post("/statements", json=statement_for(f"{user_id}-b")).status_code == 200


def test_documents_past_the_quota_are_413_and_nothing_is_stored(
    lrs: httpx.Client, user_id: str
) -> None:
    agent = json.dumps({"account": {"homePage": "https://lms.example.com", "name": user_id}})

    def state(state_id: str) -> dict[str, str]:
        return {"activityId": "urn:example:a", "agent": agent, "stateId": state_id}

    assert lrs.put("/activities/state", params=state("one"), json={}).status_code == 204
    profile = {"agent": agent, "profileId": "two"}
    created = lrs.put("/agents/profile", params=profile, json={}, headers={"If-None-Match": "*"})
    assert created.status_code == 204
    assert over_quota(lrs.put("/activities/state", params=state("three"), json={}), "agent")
    assert lrs.get("/activities/state", params=state("three")).status_code == 404
    replaced = lrs.put("/activities/state", params=state("one"), json={"page": 2})
    assert replaced.status_code == 204
    assert lrs.delete("/activities/state", params=state("one")).status_code == 204
    assert lrs.put("/activities/state", params=state("three"), json={}).status_code == 204


def test_attachments_past_the_quota_are_413_and_nothing_is_stored(
    lrs: httpx.Client, user_id: str
) -> None:
    kept, first = with_attachment(user_id, 592)
    refused, second = with_attachment(user_id, 592)
    assert post_multipart(lrs, first).status_code == 200
    assert over_quota(post_multipart(lrs, second), "[0].actor")
    assert stored(lrs, kept)
    assert not stored(lrs, refused)


def test_an_attachments_page_stops_at_its_byte_bound(lrs: httpx.Client, user_id: str) -> None:
    """Two statements of 400 bytes each: 800 > 600, so two pages of one, joined by `more`."""
    for _ in range(2):
        assert post_multipart(lrs, with_attachment(user_id, 400)[1]).status_code == 200
    agent = json.dumps({"account": {"homePage": "https://lms.example.com", "name": user_id}})
    first = lrs.get("/statements", params={"agent": agent, "attachments": "true"})
    statements, more = parts(first)
    assert len(statements) == 1
    assert more
    path = more.removeprefix("/xapi")
    following, last = parts(lrs.get(path))
    assert len(following) == 1
    assert not last
    assert statements[0]["id"] != following[0]["id"]


def parts(answer: httpx.Response) -> tuple[list[dict[str, Any]], str]:
    """The statements and `more` of an `attachments=true` answer."""
    assert answer.status_code == 200, answer.text
    raw = b"Content-Type: " + answer.headers["Content-Type"].encode() + b"\r\n\r\n"
    found = list(BytesParser(policy=HTTP).parsebytes(raw + answer.content).iter_parts())
    result = json.loads(found[0].get_content())
    return result["statements"], result["more"]
