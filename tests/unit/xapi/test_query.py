"""GET /statements parameters and filters (Communication 2.1.3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.xapi import (
    InvalidStatement,
    StatementQuery,
    filter_keys,
    matches,
    parse_statement_query,
    validate_statement,
)

from .statements import STATEMENT_ID, statement

ANA = json.dumps({"mbox": "mailto:ana@example.com"})
CY = json.dumps({"mbox": "mailto:cy@example.com"})
STORED = validate_statement(statement())


def test_all_parameters_parse() -> None:
    """Communication 2.1.3.s1.table1: every filter with its type."""
    query = parse_statement_query(
        {
            "agent": ANA,
            "verb": "http://adlnet.gov/expapi/verbs/completed",
            "activity": "https://example.com/a",
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "related_activities": "true",
            "related_agents": "false",
            "since": "2026-01-01T00:00:00Z",
            "until": "2026-02-01T00:00:00+01:00",
            "limit": "25",
            "format": "ids",
            "attachments": "false",
            "ascending": "true",
        }
    )
    assert query.agent == "mbox:mailto:ana@example.com"
    assert query.registration == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
    assert (query.related_activities, query.ascending, query.related_agents) == (True, True, False)
    assert query.limit == 25
    assert query.format == "ids"
    assert parse_statement_query({}) == StatementQuery()


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"Agent": ANA}, "Agent"),
        ({"statementID": STATEMENT_ID}, "statementID"),
        ({"statementId": STATEMENT_ID, "voidedStatementId": STATEMENT_ID}, "voidedStatementId"),
        ({"statementId": STATEMENT_ID, "limit": "1"}, "limit"),
        ({"voidedStatementId": STATEMENT_ID, "agent": ANA}, "agent"),
        ({"statementId": "nope"}, "statementId"),
        ({"agent": "mailto:ana@example.com"}, "agent"),
        ({"agent": json.dumps({"mbox": "ana@example.com"})}, "agent.mbox"),
        (
            {"agent": json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:a@b.co"}]})},
            "agent",
        ),
        ({"verb": "completed"}, "verb"),
        ({"since": "yesterday"}, "since"),
        ({"limit": "-1"}, "limit"),
        ({"ascending": "True"}, "ascending"),
        ({"format": "full"}, "format"),
    ],
)
def test_bad_parameters_are_refused_by_name(params: dict[str, str], parameter: str) -> None:
    """Communication 2.1.3.s2.b1, b2 and 3.2.s2.b1, s3.b8: unknown, mixed or malformed."""
    with pytest.raises(InvalidStatement) as raised:
        parse_statement_query(params)
    assert raised.value.path == parameter


def test_single_statement_takes_format_and_attachments() -> None:
    query = parse_statement_query(
        {"statementId": STATEMENT_ID, "format": "canonical", "attachments": "true"}
    )
    assert query.statement_id == STATEMENT_ID
    assert query.attachments


def q(**params: Any) -> StatementQuery:
    return parse_statement_query(params)


def test_agent_filter_actor_object_and_group_members() -> None:
    """agent: Actor or Object; a Group matches its members; related_agents widens it."""
    assert matches(STORED, q(agent=ANA))
    assert not matches(STORED, q(agent=CY))
    assert matches(STORED, q(agent=CY, related_agents="true"))
    group_actor = validate_statement(
        statement(actor={"objectType": "Group", "member": [{"mbox": "mailto:cy@example.com"}]})
    )
    assert matches(group_actor, q(agent=CY))
    agent_object = validate_statement(
        statement(object={"objectType": "Agent", "mbox": "mailto:cy@example.com"}, context={})
    )
    assert matches(agent_object, q(agent=CY))


def test_activity_verb_registration_filters() -> None:
    """activity: the Object; related_activities: also context and SubStatement activities."""
    assert matches(STORED, q(activity=STORED["object"]["id"]))
    parent = "https://example.com/courses/rust"
    assert not matches(STORED, q(activity=parent))
    assert matches(STORED, q(activity=parent, related_activities="true"))
    assert matches(STORED, q(verb="http://adlnet.gov/expapi/verbs/completed"))
    assert not matches(STORED, q(verb="http://adlnet.gov/expapi/verbs/passed"))
    assert matches(STORED, q(registration=STORED["context"]["registration"].upper()))
    assert not matches(STORED, q(registration=STATEMENT_ID))


def test_substatement_parts_are_related() -> None:
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:zed@example.com"},
        "verb": {"id": "urn:v"},
        "object": {"id": "urn:inner"},
        "context": {"contextActivities": {"other": {"id": "urn:other"}}},
    }
    keys = filter_keys(validate_statement(statement(object=sub, context={})))
    assert keys["activities"] == []
    assert {"urn:inner", "urn:other"} <= set(keys["relatedActivities"])
    assert "mbox:mailto:zed@example.com" in keys["relatedAgents"]
    assert "mbox:mailto:zed@example.com" not in keys["agents"]
