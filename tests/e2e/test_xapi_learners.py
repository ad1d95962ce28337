"""User tokens on /xapi speak for their own learner only (issue 23, item 3).

xAPI content runs in the learner's browser, so it must hold that learner's user token, never
the tenant's API key: with a user token every statement's actor, every document's agent and
every query's agent must be the token's `sub`; reads see only that learner's statements.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from chaos.known_cases import learner_requests
from shared.adapters.settings import Settings
from tests.e2e.xapi_support import VOIDED, learner_client, lrs_client, statement_for, user_token
from tests.support.cli import progressctl
from tests.support.services import Stack

pytestmark = pytest.mark.e2e

HOME = "https://lms.example.com"
ACTIVITY = "urn:example:activity:lesson-1"


def agent(user_id: str) -> str:
    """The `agent` parameter of `user_id`'s account."""
    return json.dumps({"account": {"homePage": HOME, "name": user_id}})


def state(user_id: str, state_id: str = "bookmark") -> dict[str, str]:
    return {"activityId": ACTIVITY, "agent": agent(user_id), "stateId": state_id}


def refused(answer: httpx.Response, field: str | None) -> bool:
    """A 403 naming `field` in the project's error shape."""
    assert answer.status_code == 403, answer.text
    error: dict[str, Any] = answer.json()["error"]
    return error["code"] == "forbidden" and error.get("field") == field


@pytest.fixture
def other(stack: Stack) -> str:
    """Another learner of the tenant, with a statement and a State document of their own."""
    user = f"other-{uuid.uuid4().hex[:12]}"
    with lrs_client(stack) as lrs:
        assert lrs.post("/statements", json=statement_for(user)).status_code == 200
        put = lrs.put("/activities/state", params=state(user), json={"page": 3})
        assert put.status_code == 204, put.text
    return user


def test_a_user_token_writes_for_its_own_learner_only(
    stack: Stack, user_id: str, other: str
) -> None:
    """Statement actor, State agent: own → stored; another learner's → 403, nothing stored."""
    passed = "http://adlnet.gov/expapi/verbs/passed"
    own, foreign = statement_for(user_id, verb=passed), statement_for(other, verb=passed)
    with learner_client(stack, user_id) as content:
        assert content.post("/statements", json=own).status_code == 200
        assert refused(content.post("/statements", json=[own, foreign]), "[1].actor")
        assert refused(
            content.put("/statements", params={"statementId": foreign["id"]}, json=foreign),
            "[0].actor",
        )
        assert content.put("/activities/state", params=state(user_id), json={}).status_code == 204
        assert refused(content.put("/activities/state", params=state(other), json={}), "agent")
        assert refused(content.delete("/activities/state", params=state(other)), "agent")
        assert refused(content.get("/activities/state", params=state(other)), "agent")
        profile = {"agent": agent(other), "profileId": "p"}
        assert refused(content.put("/agents/profile", params=profile, json={}), "agent")
        activity = {"activityId": ACTIVITY, "profileId": "p"}
        assert refused(content.put("/activities/profile", params=activity, json={}), "activityId")
        assert content.get("/activities/profile", params=activity).status_code == 404
    with lrs_client(stack) as lrs:
        assert lrs.get("/statements", params={"statementId": foreign["id"]}).status_code == 404
        assert lrs.get("/activities/state", params=state(other)).json() == {"page": 3}


def test_a_user_token_reads_only_its_own_learners_statements(
    stack: Stack, user_id: str, other: str
) -> None:
    """A query without agent returns the learner's statements; another's agent → 403."""
    own = statement_for(user_id)
    with lrs_client(stack) as lrs:
        theirs = lrs.get("/statements", params={"agent": agent(other)}).json()["statements"]
    with learner_client(stack, user_id) as content:
        assert content.post("/statements", json=own).status_code == 200
        page = content.get("/statements", params={"limit": "100"}).json()
        assert [s["id"] for s in page["statements"]] == [own["id"]]
        assert refused(content.get("/statements", params={"agent": agent(other)}), "agent")
        single = content.get("/statements", params={"statementId": theirs[0]["id"]})
        assert single.status_code == 404
        assert content.get("/statements", params={"statementId": own["id"]}).status_code == 200


def test_a_user_token_voids_only_its_own_learners_statements(
    stack: Stack, user_id: str, other: str
) -> None:
    """Voiding another learner's statement is 403 and leaves it readable."""
    own = statement_for(user_id)
    with lrs_client(stack) as lrs:
        theirs = lrs.get("/statements", params={"agent": agent(other)}).json()["statements"][0]
    with learner_client(stack, user_id) as content:
        assert content.post("/statements", json=own).status_code == 200
        for target, status in ((theirs["id"], 403), (own["id"], 200)):
            void = statement_for(user_id, verb=VOIDED)
            void["object"] = {"objectType": "StatementRef", "id": target}
            answer = content.post("/statements", json=void)
            assert answer.status_code == status, answer.text
    with lrs_client(stack) as lrs:
        assert lrs.get("/statements", params={"statementId": theirs["id"]}).status_code == 200
        assert lrs.get("/statements", params={"statementId": own["id"]}).status_code == 404


@pytest.fixture(scope="module")
def listed_tenant(settings: Settings) -> tuple[str, str, str]:
    """A fresh tenant whose accounts must be of `HOME`: its id, API key and signing secret."""
    tenant = f"homes-{uuid.uuid4().hex[:8]}"
    created = json.loads(progressctl(settings, "tenant", "create", tenant, "--json"))
    profile = {"users": {"accountHomePages": [HOME]}}
    progressctl(settings, "tenant", "xapi", tenant, "--set", json.dumps(profile))
    return tenant, created["apiKey"], created["signingSecret"]


def test_a_user_token_names_no_account_outside_the_home_pages(
    stack: Stack, user_id: str, listed_tenant: tuple[str, str, str]
) -> None:
    """`users.accountHomePages`: with a user token, another system's account is 403."""
    tenant, _, secret = listed_tenant
    elsewhere = statement_for(user_id)
    elsewhere["actor"] = {"account": {"homePage": "https://other.example", "name": user_id}}
    with learner_client(stack, user_id, tenant, secret) as content:
        assert content.post("/statements", json=statement_for(user_id)).status_code == 200
        answer = content.post("/statements", json=elsewhere)
        assert refused(answer, "[0].actor")
        assert "accountHomePages" in answer.json()["error"]["message"]


def test_the_chaos_campaigns_learner_cases_get_their_answers(stack: Stack, user_id: str) -> None:
    """`make chaos` sends these once per run; each must get the answer it names."""
    other = f"other-{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=stack.gateway_url, timeout=10.0) as client:
        token = f"Bearer {user_token(user_id)}"
        for case in learner_requests(user_id, other, token):
            answer = client.request(case.method, case.path, headers=case.headers, content=case.body)
            assert answer.status_code == case.expected, (case.name, answer.text)
