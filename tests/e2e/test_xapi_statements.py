"""The xAPI Statement and About resources on the live stack, each test naming its requirement."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pytest

from tests.e2e.xapi_support import KEY_ID, VOIDED, attachment_for, lrs_client, statement_for
from tests.support.services import TEST_API_KEY, Stack

pytestmark = pytest.mark.e2e


def test_about_names_both_versions_without_credentials(stack: Stack) -> None:
    """Communication 2.8 (About): 200 with `version`, no authentication needed."""
    about = httpx.get(f"{stack.gateway_url}/xapi/about")
    assert about.status_code == 200
    assert about.json()["version"] == ["1.0.3", "2.0.0"]
    assert about.headers["X-Experience-API-Version"] == "2.0.0"


def test_requests_need_a_version_and_the_keys_own_id(stack: Stack, user_id: str) -> None:
    """Communication 3.3 (version header required) and 4 (authentication)."""
    with lrs_client(stack) as lrs:
        unversioned = lrs.get("/statements", headers={"X-Experience-API-Version": "0.9"})
        assert unversioned.status_code == 400
        assert unversioned.json()["error"]["field"] == "X-Experience-API-Version"
        wrong_id = lrs.get("/statements", auth=("someone-else", TEST_API_KEY))
        assert wrong_id.status_code == 401
        assert wrong_id.headers["WWW-Authenticate"].startswith("Basic")


def test_put_get_resend_and_conflict(stack: Stack, user_id: str) -> None:
    """Communication 2.1.1 (PUT; identical resend 204, other content 409) and 2.1.3 (GET by id)."""
    sent = statement_for(user_id)
    with lrs_client(stack) as lrs:
        put = lrs.put("/statements", params={"statementId": sent["id"]}, json=sent)
        assert put.status_code == 204, put.text
        assert put.headers["Progress-Consistency-Token"]
        read = lrs.get("/statements", params={"statementId": sent["id"]})
        assert read.status_code == 200
        stored = read.json()
        assert stored["authority"]["account"]["name"] == KEY_ID
        assert stored["verb"] == sent["verb"]
        assert "stored" in stored
        assert "X-Experience-API-Consistent-Through" in read.headers
        again = lrs.put("/statements", params={"statementId": sent["id"]}, json=sent)
        assert again.status_code == 204
        changed = {**sent, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"}}
        conflict = lrs.put("/statements", params={"statementId": sent["id"]}, json=changed)
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == "statement_conflict"
        invalid = lrs.post("/statements", json={**statement_for(user_id), "verb": {}})
        assert invalid.status_code == 400
        assert invalid.json()["error"]["field"] == "verb.id"


def test_post_many_then_filter_and_page_with_more(stack: Stack, user_id: str) -> None:
    """Communication 2.1.2 (POST many → ids in order), 2.1.3 (agent, verb, limit, more)."""
    activity = f"urn:example:activity:{uuid.uuid4().hex}"
    batch = [statement_for(user_id, activity) for _ in range(5)]
    with lrs_client(stack, "2.0.0") as lrs:
        posted = lrs.post("/statements", json=batch)
        assert posted.status_code == 200, posted.text
        assert posted.json() == [s["id"] for s in batch]
        agent = json.dumps(batch[0]["actor"])
        seen: list[str] = []
        page = lrs.get("/statements", params={"agent": agent, "limit": 2}).json()
        seen += [s["id"] for s in page["statements"]]
        while page["more"]:
            page = httpx.get(
                stack.gateway_url + page["more"], auth=lrs.auth, headers=lrs.headers
            ).json()
            seen += [s["id"] for s in page["statements"]]
        assert sorted(seen) == sorted(s["id"] for s in batch)
        by_activity = lrs.get("/statements", params={"activity": activity, "format": "ids"})
        assert len(by_activity.json()["statements"]) == 5
        unknown = lrs.get("/statements", params={"colour": "red"})
        assert unknown.status_code == 400
        assert unknown.json()["error"]["field"] == "colour"


def test_a_post_of_more_than_500_statements_is_a_413_and_stores_nothing(
    stack: Stack, user_id: str
) -> None:
    """One POST of 2,500 statements used to store 2,500 and publish 2,500 events."""
    activity = f"urn:example:activity:{uuid.uuid4().hex}"
    batch = [statement_for(user_id, activity) for _ in range(501)]
    with lrs_client(stack) as lrs:
        refused = lrs.post("/statements", json=batch)
        assert refused.status_code == 413, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("too_many_statements", "statements")
        assert "PROGRESS_MAX_EVENTS_PER_REQUEST" in error["message"]
        stored = lrs.get("/statements", params={"activity": activity, "format": "ids"})
        assert stored.json()["statements"] == []
        assert lrs.post("/statements", json=batch[:500]).status_code == 200


def test_voiding_hides_the_statement_and_withdraws_its_progress(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    """Data 2.3.2 (voiding) and Communication 2.1.4 (voidedStatementId); `waitFor` holds."""
    done = statement_for(user_id)
    with lrs_client(stack) as lrs:
        token = lrs.post("/statements", json=done).headers["Progress-Consistency-Token"]
        view = api.get(f"/v1/users/{user_id}/progress", params={"waitFor": token})
        assert view.headers["Progress-Consistent"] == "true"
        assert view.json()["snapshot"]["items"]["urn:example:activity:lesson-1"]
        voiding = statement_for(
            "admin", verb=VOIDED, object={"objectType": "StatementRef", "id": done["id"]}
        )
        voided = lrs.post("/statements", json=voiding)
        assert voided.status_code == 200
        assert lrs.get("/statements", params={"statementId": done["id"]}).status_code == 404
        again = lrs.get("/statements", params={"voidedStatementId": done["id"]})
        assert again.status_code == 200
        assert again.json()["id"] == done["id"]
        token = voided.headers["Progress-Consistency-Token"]
    view = api.get(f"/v1/users/{user_id}/progress", params={"waitFor": token})
    assert view.headers["Progress-Consistent"] == "true"
    assert view.json()["snapshot"]["items"] == {}


def test_attachments_travel_as_multipart_both_ways(stack: Stack, user_id: str) -> None:
    """Communication 1.5.2 (multipart/mixed, X-Experience-API-Hash, attachments=true)."""
    data = b"certificate of completion"
    sha2 = hashlib.sha256(data).hexdigest()
    sent = statement_for(user_id, attachments=[attachment_for(data)])
    boundary = "xapi-test-boundary"
    body = b"\r\n".join(
        [
            f"--{boundary}".encode(),
            b"Content-Type: application/json",
            b"",
            json.dumps(sent).encode(),
            f"--{boundary}".encode(),
            b"Content-Type: text/plain",
            b"Content-Transfer-Encoding: binary",
            f"X-Experience-API-Hash: {sha2}".encode(),
            b"",
            data,
            f"--{boundary}--".encode(),
        ]
    )
    with lrs_client(stack) as lrs:
        content_type = f'multipart/mixed; boundary="{boundary}"'
        posted = lrs.post("/statements", content=body, headers={"Content-Type": content_type})
        assert posted.status_code == 200, posted.text
        missing = {**sent, "id": str(uuid.uuid4())}
        refused = lrs.post("/statements", json=missing)
        assert refused.status_code == 400
        assert "sha2" in refused.json()["error"]["field"]
        read = lrs.get("/statements", params={"statementId": sent["id"], "attachments": "true"})
    assert read.headers["Content-Type"].startswith("multipart/mixed")
    raw = b"Content-Type: " + read.headers["Content-Type"].encode() + b"\r\n\r\n" + read.content
    parts = list(BytesParser(policy=HTTP).parsebytes(raw).iter_parts())
    assert json.loads(parts[0].get_content())["id"] == sent["id"]
    assert parts[1]["X-Experience-API-Hash"] == sha2
    payload = parts[1].get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.strip() == data


def test_the_alternate_request_syntax_is_unwrapped_for_1_0_3(stack: Stack, user_id: str) -> None:
    """Communication 1.3 (1.0.3): a form POST with `method` stands for the request it wraps."""
    sent = statement_for(user_id)
    form = {
        "Authorization": "Basic " + base64.b64encode(f"{KEY_ID}:{TEST_API_KEY}".encode()).decode(),
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
        "statementId": sent["id"],
        "content": json.dumps(sent),
    }
    url = f"{stack.gateway_url}/xapi/statements"
    put = httpx.post(url, params={"method": "PUT"}, data=form)
    assert put.status_code == 204, put.text
    read = httpx.post(
        url, params={"method": "GET"}, data={k: v for k, v in form.items() if k != "content"}
    )
    assert read.json()["id"] == sent["id"]
    form["X-Experience-API-Version"] = "2.0.0"
    assert httpx.post(url, params={"method": "PUT"}, data=form).status_code == 400
