"""The Activities, Agents, Activity Profile and Agent Profile resources on the live stack.

Communication 2.4 (Agents), 2.5 (Activities), 2.6 (Agent Profile), 2.7 (Activity Profile)
and 3.1 (concurrency) of 1.0.3, which 2.0.0 keeps; each test names what it covers.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.xapi_support import lrs_client, statement_for
from tests.support.services import Stack

pytestmark = pytest.mark.e2e


def test_the_activities_resource_returns_the_definition_statements_gave(
    stack: Stack, user_id: str
) -> None:
    """Communication 2.5: GET ?activityId= answers the Activity Object; one no statement
    names is still an Activity Object (2.0.0 suite, 4.1.6.4)."""
    activity = f"urn:example:activity:{uuid.uuid4().hex}"
    definition = {"name": {"en-US": "Lesson"}, "type": "http://adlnet.gov/expapi/activities/lesson"}
    sent = statement_for(user_id, activity)
    sent["object"] = {"objectType": "Activity", "id": activity, "definition": definition}
    with lrs_client(stack) as lrs:
        assert lrs.post("/statements", json=sent).status_code == 200
        found = lrs.get("/activities", params={"activityId": activity})
        assert found.status_code == 200, found.text
        assert found.json() == {"objectType": "Activity", "id": activity, "definition": definition}
        assert lrs.head("/activities", params={"activityId": activity}).status_code == 200
        unknown = lrs.get("/activities", params={"activityId": "urn:example:never"})
        assert unknown.json() == {"objectType": "Activity", "id": "urn:example:never"}
        assert lrs.get("/activities").status_code == 400


def test_the_agents_resource_returns_a_person(stack: Stack) -> None:
    """Communication 2.4: GET ?agent= answers a Person Object; a bad agent is a 400."""
    agent = {"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.com"}
    with lrs_client(stack) as lrs:
        person = lrs.get("/agents", params={"agent": json.dumps(agent)})
        assert person.status_code == 200
        assert person.json() == {
            "objectType": "Person",
            "name": ["Ana"],
            "mbox": ["mailto:ana@example.com"],
        }
        assert lrs.get("/agents", params={"agent": '{"name": "nobody"}'}).status_code == 400


@pytest.mark.parametrize(
    ("path", "owner"),
    [("/activities/profile", "activityId"), ("/agents/profile", "agent")],
    ids=["activity-profile", "agent-profile"],
)
def test_profile_documents_follow_the_state_rules(
    stack: Stack, user_id: str, path: str, owner: str
) -> None:
    """Communication 2.6 / 2.7 with 2.2 (merge) and 3.1; XAPI-00273, XAPI-00293: 1.0.3
    refuses a profile PUT without If-Match / If-None-Match (400 if absent, 409 if present)."""
    value = (
        f"urn:example:activity:{uuid.uuid4().hex}"
        if owner == "activityId"
        else json.dumps({"account": {"homePage": "https://lms.example.com", "name": user_id}})
    )
    params = {owner: value, "profileId": "preferences"}
    with lrs_client(stack, "1.0.3") as lrs:
        blind_create = lrs.put(path, params=params, json={"theme": "dark"})
        assert blind_create.status_code == 400
        assert blind_create.json()["error"]["code"] == "precondition_required"
        absent = {"If-None-Match": "*"}
        created = lrs.put(path, params=params, json={"theme": "dark"}, headers=absent)
        assert created.status_code == 204, created.text
        read = lrs.get(path, params=params)
        assert read.json() == {"theme": "dark"}
        assert read.headers["ETag"] == created.headers["ETag"]
        assert "Last-Modified" in read.headers
        assert lrs.put(path, params=params, json={"theme": "light"}).status_code == 409
        stale = lrs.put(path, params=params, json={}, headers={"If-Match": '"x"'})
        assert stale.status_code == 412
        assert lrs.post(path, params=params, json={"size": 2}).status_code == 204
        assert lrs.get(path, params=params).json() == {"theme": "dark", "size": 2}
        assert lrs.get(path, params={owner: value}).json() == ["preferences"]
        later = {owner: value, "since": "2999-01-01T00:00:00Z"}
        assert lrs.get(path, params=later).json() == []
        assert lrs.delete(path, params={owner: value}).status_code == 400
        assert lrs.delete(path, params=params).status_code == 204
        assert lrs.get(path, params=params).status_code == 404
