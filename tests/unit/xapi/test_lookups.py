"""The Activities and Agents resources' answers, and the profile resources' parameters.

Communication 2.4 (Agents), 2.5 (Activities), 2.6 (Agent Profile), 2.7 (Activity Profile)
of 1.0.3; 2.0.0 keeps them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.xapi import (
    InvalidStatement,
    canonical_activity,
    parse_activity_params,
    parse_agents_params,
    parse_profile_params,
    person_for,
)

pytestmark = pytest.mark.unit

LESSON = "https://example.com/lesson-1"
AGENT = json.dumps({"mbox": "mailto:ana@example.com", "name": "Ana"})


def about(activity: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "actor": {"mbox": "mailto:a@example.com"},
        "verb": {"id": "urn:v"},
        "object": activity,
        **more,
    }


def test_the_activity_object_merges_definitions_newest_first() -> None:
    """Communication 2.5: the LRS's canonical definition; newer text wins per language."""
    older = about(
        {"id": LESSON, "definition": {"name": {"en-US": "Old", "de": "Alt"}, "type": "urn:t"}}
    )
    newer = about({"id": LESSON, "definition": {"name": {"en-US": "New"}}})
    assert canonical_activity(LESSON, [newer, older]) == {
        "objectType": "Activity",
        "id": LESSON,
        "definition": {"name": {"en-US": "New", "de": "Alt"}, "type": "urn:t"},
    }


def test_context_activities_and_substatements_define_too() -> None:
    """An Activity named only as a parent, or inside a SubStatement, still has its definition."""
    parent = {"id": LESSON, "definition": {"description": {"en-US": "Course"}}}
    in_context = about({"id": "urn:x"}, context={"contextActivities": {"parent": [parent]}})
    sub = about(
        {"objectType": "SubStatement", **about({"id": LESSON, "definition": {"type": "urn:t"}})}
    )
    found = canonical_activity(LESSON, [sub, in_context])
    assert found["definition"] == {"description": {"en-US": "Course"}, "type": "urn:t"}


def test_an_activity_without_definition_is_its_id() -> None:
    assert canonical_activity(LESSON, [about({"id": LESSON})]) == {
        "objectType": "Activity",
        "id": LESSON,
    }


def test_a_person_holds_the_agents_name_and_identifier_in_arrays() -> None:
    """Communication 2.4.s4 (Person Object): arrays of names and IFIs, objectType Person."""
    assert person_for(parse_agents_params({"agent": AGENT})) == {
        "objectType": "Person",
        "name": ["Ana"],
        "mbox": ["mailto:ana@example.com"],
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "agent"),
        ({"agent": "{"}, "agent"),
        ({"agent": '{"name": "no ifi"}'}, "agent"),
        ({"agent": AGENT, "extra": "1"}, "extra"),
    ],
)
def test_agents_parameters_are_checked(params: dict[str, str], field: str) -> None:
    """XAPI-00251-style: a bad or missing agent, or an unknown parameter, is a 400 naming it."""
    with pytest.raises(InvalidStatement) as raised:
        parse_agents_params(params)
    assert raised.value.path == field


@pytest.mark.parametrize(
    ("params", "field"), [({}, "activityId"), ({"activityId": "no iri"}, "activityId")]
)
def test_activity_parameters_are_checked(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidStatement) as raised:
        parse_activity_params(params)
    assert raised.value.path == field


def test_profile_parameters_name_the_owner_and_the_profile() -> None:
    """Communication 2.6 / 2.7: agent or activityId, profileId; since only for all ids."""
    activity = parse_profile_params(
        "activity_profile", "PUT", {"activityId": LESSON, "profileId": "p"}
    )
    assert (activity.activity_id, activity.agent, activity.document_id) == (LESSON, "", "p")
    agent = parse_profile_params(
        "agent_profile", "GET", {"agent": AGENT, "since": "2026-01-01T00:00:00Z"}
    )
    assert (agent.activity_id, agent.document_id) == ("", None)
    assert agent.agent == "mbox:mailto:ana@example.com"


@pytest.mark.parametrize(
    ("resource", "method", "params", "field"),
    [
        ("activity_profile", "PUT", {"activityId": LESSON}, "profileId"),
        ("activity_profile", "DELETE", {"activityId": LESSON}, "profileId"),
        ("activity_profile", "GET", {"profileId": "p"}, "activityId"),
        ("activity_profile", "GET", {"activityId": LESSON, "agent": AGENT}, "agent"),
        (
            "agent_profile",
            "GET",
            {"agent": AGENT, "profileId": "p", "since": "2026-01-01T00:00:00Z"},
            "since",
        ),
        ("agent_profile", "POST", {"agent": "{}", "profileId": "p"}, "agent"),
    ],
)
def test_bad_profile_parameters_are_400s_naming_them(
    resource: Any, method: Any, params: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidStatement) as raised:
        parse_profile_params(resource, method, params)
    assert raised.value.path.startswith(field)
