"""Statement validation: each case names the xAPI requirement it covers.

Section numbers are those of the xAPI 1.0.3 data model ("Data 2.4.2.1.s2.b1"); the XAPI-nnnnn
ids are the LRS conformance suite's requirement ids for the same rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.xapi import InvalidStatement, validate_statement, validate_statements

from .statements import ACTIVITY, REMOVE, STATEMENT_ID, changed, statement

SUB = {
    "objectType": "SubStatement",
    "actor": {"mbox": "mailto:ana@example.com"},
    "verb": {"id": "http://example.com/verbs/will-attend"},
    "object": {"id": "https://example.com/meetings/1"},
}
GROUP = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}
CHOICE = {
    "interactionType": "choice",
    "correctResponsesPattern": ["golf"],
    "choices": [{"id": "golf", "description": {"en-US": "Golf"}}, {"id": "tetris"}],
}

# (requirement, path to change, new value, path the error must name)
INVALID: list[tuple[str, str, Any, str]] = [
    ("XAPI-00003 Data 2.2.s2.b3 actor required", "actor", REMOVE, "actor"),
    ("XAPI-00004 Data 2.2.s2.b3 verb required", "verb", REMOVE, "verb"),
    ("XAPI-00005 Data 2.2.s2.b3 object required", "object", REMOVE, "object"),
    ("XAPI-00001 Data 2.2.s4.b1.b1 null refused", "context", None, "context"),
    ("XAPI-00001 Data 2.2.s4.b1.b1 null in actor", "actor.name", None, "actor.name"),
    ("XAPI-00006 Data 2.2.s4.b1.b2 numeric string", "result.score.raw", "8", "result.score.raw"),
    ("XAPI-00006 Data 2.2.s4.b1.b3 boolean string", "result.success", "true", "result.success"),
    ("XAPI-00008 Data 2.2.s4.b1.b5 key case", "Actor", {}, "Actor"),
    ("Data 2.2.s4.b1.b7 unknown property", "result.grade", "A", "result.grade"),
    ("XAPI-00027 Data 2.4.1 id UUID", "id", "AA97B177-9383-4934-8543-0F91A7A028368", "id"),
    ("XAPI-00029 Data 2.4.1 id string", "id", 12345, "id"),
    ("XAPI-00032 Data 2.4.2.1.s2.b1 one IFI", "actor.mbox", REMOVE, "actor"),
    ("Data 2.4.2.1.s2.b2 not two IFIs", "actor.openid", "http://id.example.com/a", "actor.openid"),
    ("XAPI-00039 Data 2.4.2.3 mailto", "actor.mbox", "http://should.fail.com", "actor.mbox"),
    ("XAPI-00039 Data 2.4.2.3 address", "actor.mbox", "mailto:should.fail.com", "actor.mbox"),
    ("Data 2.4.2.3 sha1sum hex", "actor", {"mbox_sha1sum": "xyz"}, "actor.mbox_sha1sum"),
    ("Data 2.4.2.3 openid URI", "actor", {"openid": "not a uri"}, "actor.openid"),
    (
        "XAPI-00044 Data 2.4.2.4 account homePage IRL",
        "actor",
        {"account": {"homePage": "ab=c://should.fail.com", "name": "a"}},
        "actor.account.homePage",
    ),
    (
        "Data 2.4.2.4 account name string",
        "actor",
        {"account": {"homePage": "https://example.com", "name": {"key": "v"}}},
        "actor.account.name",
    ),
    (
        "Data 2.4.2.4 account name required",
        "actor",
        {"account": {"homePage": "https://example.com"}},
        "actor.account.name",
    ),
    ("Data 2.4.2.1 objectType Agent case", "actor.objectType", "agent", "actor.objectType"),
    (
        "Data 2.4.2.2.s4.b1 anonymous group lists members",
        "actor",
        {"objectType": "Group"},
        "actor.member",
    ),
    (
        "Data 2.4.2.2.s4.b2 no groups in member",
        "actor",
        {"objectType": "Group", "member": [GROUP]},
        "actor.member[0]",
    ),
    (
        "Data 2.4.2.2 member needs an IFI",
        "actor",
        {"objectType": "Group", "member": [{"name": "x"}]},
        "actor.member[0]",
    ),
    ("XAPI-00042 Data 2.4.3 verb id IRI", "verb.id", "completed", "verb.id"),
    (
        "XAPI-00121 Data 4.2 display language",
        "verb.display",
        {"a12345": "x"},
        "verb.display.a12345",
    ),
    ("Data 4.2 display is a map", "verb.display", "completed", "verb.display"),
    ("XAPI-00046 Data 2.4.4.s2 objectType", "object.objectType", "activity", "object.objectType"),
    ("XAPI-00047 Data 2.4.4.1 activity id", "object.id", REMOVE, "object.id"),
    ("XAPI-00047 Data 2.4.4.1 id IRI", "object.id", "ab=c://should.fail.com", "object.id"),
    ("XAPI-00048 definition object", "object.definition", "x", "object.definition"),
    ("XAPI-00056 name language map", "object.definition.name", 12345, "object.definition.name"),
    ("XAPI-00060 type IRI", "object.definition.type", "lesson", "object.definition.type"),
    ("XAPI-00061 moreInfo IRL", "object.definition.moreInfo", "x y", "object.definition.moreInfo"),
    (
        "XAPI-00057 Data 4.1.s3.b1 extension keys IRIs",
        "object.definition.extensions",
        {"should fail": True},
        "object.definition.extensions",
    ),
    (
        "Data 2.2.s4.b1.b6 interactionType case",
        "object.definition.interactionType",
        "choiCe",
        "object.definition.interactionType",
    ),
    (
        "Data 2.4.4.1.s13.b1 interactionType with components",
        "object.definition",
        {"choices": [{"id": "a"}]},
        "object.definition.interactionType",
    ),
    (
        "Data 2.4.4.1.s15.table2 lists per interaction type",
        "object.definition",
        {"interactionType": "likert", "choices": [{"id": "a"}]},
        "object.definition.choices",
    ),
    (
        "Data 2.4.4.1.s16.b1 distinct component ids",
        "object.definition",
        {**CHOICE, "choices": [{"id": "a"}, {"id": "a"}]},
        "object.definition.choices[1].id",
    ),
    (
        "XAPI-00065 Data 2.4.4.2.s1.b1 Agent object objectType",
        "object",
        {"mbox": "mailto:a@example.com"},
        "object.objectType",
    ),
    (
        "Data 2.4.4.3.s4.b2 StatementRef id UUID",
        "object",
        {"objectType": "StatementRef", "id": "MA97B177-9383-4934-8543-0F91A7A02836"},
        "object.id",
    ),
    (
        "Data 2.4.4.3.s8.b3 no id in SubStatement",
        "object",
        {**SUB, "id": STATEMENT_ID},
        "object.id",
    ),
    (
        "Data 2.4.4.3.s8.b4 no nested SubStatement",
        "object",
        {**SUB, "object": SUB},
        "object.object.objectType",
    ),
    (
        "Data 2.4.4.3.s8.b2 SubStatement validated as a statement",
        "object",
        {**SUB, "actor": {"mbox": "ana@example.com"}},
        "object.actor.mbox",
    ),
    ("Data 2.4.5.1 scaled >= -1", "result.score.scaled", -1.01, "result.score.scaled"),
    ("Data 2.4.5.1 scaled <= 1", "result.score.scaled", 1.5, "result.score.scaled"),
    ("Data 2.4.5.1 raw <= max", "result.score.raw", 11, "result.score.raw"),
    ("Data 2.4.5.1 raw >= min", "result.score.raw", -1, "result.score.raw"),
    ("Data 2.4.5.1 min < max", "result.score.min", 10, "result.score.min"),
    ("XAPI-00124 Data 4.6 duration", "result.duration", "PA1H0M0S", "result.duration"),
    ("Data 4.6 weeks alone", "result.duration", "P4W1D", "result.duration"),
    ("Data 4.6 duration is a string", "result.duration", 12345, "result.duration"),
    ("Data 2.4.6.1 registration UUID", "context.registration", "x", "context.registration"),
    (
        "Data 2.4.6 team is a Group",
        "context.team",
        {"mbox": "mailto:t@example.com"},
        "context.team",
    ),
    (
        "XAPI-00093 Data 2.4.6.2.s4.b1 contextActivities keys",
        "context.contextActivities",
        {"parents": {"id": "https://example.com/a"}},
        "context.contextActivities.parents",
    ),
    (
        "XAPI-00094 Data 2.4.6.2.s4.b2 context activity",
        "context.contextActivities",
        {"grouping": [{"id": "https://example.com/a"}, {"id": "nope"}]},
        "context.contextActivities.grouping[1].id",
    ),
    ("XAPI-00122 Data 2.4.6 language tag", "context.language", "a12345", "context.language"),
    (
        "Data 2.4.6 context statement is a StatementRef",
        "context.statement",
        {"objectType": "Activity", "id": STATEMENT_ID},
        "context.statement.objectType",
    ),
    ("Data 2.4.6 contextAgents are 2.0 only", "context.contextAgents", [], "context.contextAgents"),
    ("XAPI-00123 Data 4.5 timestamp", "timestamp", "01/011/2015", "timestamp"),
    ("Data 4.5 -00:00 offset refused", "timestamp", "2008-09-15T15:53:00.601-00:00", "timestamp"),
    ("Data 4.5 -0000 offset refused", "timestamp", "2008-09-15T15:53:00.601-0000", "timestamp"),
    ("Data 4.5 -00 offset refused", "timestamp", "2008-09-15T15:53:00.601-00", "timestamp"),
    ("Data 2.4.8 stored timestamp", "stored", "yesterday", "stored"),
    (
        "XAPI-00098 Data 2.4.9.s3.b1 authority group of two",
        "authority",
        {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]},
        "authority.member",
    ),
    (
        "XAPI-00024 Data 2.4.9 authority identified group",
        "authority",
        {"objectType": "Group", "mbox": "mailto:g@example.com"},
        "authority",
    ),
    ("Data 2.4.10.s3.b2 version 1.0.x", "version", "1.1.0", "version"),
    ("Data 2.4.10.s3.b2 version 0.9.9", "version", "0.9.9", "version"),
    ("XAPI-00025 attachments array", "attachments", {"usageType": "x"}, "attachments"),
    ("XAPI-00107 usageType IRI", "attachments[0].usageType", "x", "attachments[0].usageType"),
    ("XAPI-00106 display map", "attachments[0].display", "x", "attachments[0].display"),
    ("XAPI-00105 contentType", "attachments[0].contentType", 5, "attachments[0].contentType"),
    ("XAPI-00102 length integer", "attachments[0].length", "5", "attachments[0].length"),
    ("XAPI-00103 sha2", "attachments[0].sha2", "should fail", "attachments[0].sha2"),
    ("XAPI-00104 fileUrl IRL", "attachments[0].fileUrl", "no scheme", "attachments[0].fileUrl"),
    ("Data 2.4.11 display required", "attachments[0].display", REMOVE, "attachments[0].display"),
    (
        "Data 2.6.s4 signature attachment type",
        "attachments[0].usageType",
        "http://adlnet.gov/expapi/attachments/signature",
        "attachments[0].contentType",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "error_path"),
    [pytest.param(path, value, where, id=req) for req, path, value, where in INVALID],
)
def test_each_rule_refuses_and_names_the_property(path: str, value: Any, error_path: str) -> None:
    with pytest.raises(InvalidStatement) as raised:
        validate_statement(changed(statement(), path, value))
    assert raised.value.path == error_path
    assert "Data " in raised.value.rule or "xAPI 2.0" in raised.value.rule


VALID: list[tuple[str, str, Any]] = [
    ("Data 2.4.1.s2.b1 id optional", "id", REMOVE),
    ("Data 2.4.1 uppercase UUID", "id", "AA97B177-9383-4934-8543-0F91A7A02836"),
    ("Data 2.4.2.1 objectType optional", "actor.objectType", REMOVE),
    (
        "Data 2.4.2.3 mbox_sha1sum",
        "actor",
        {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
    ),
    ("Data 2.4.2.3 openid", "actor", {"openid": "http://openid.example.org/12345"}),
    (
        "Data 2.4.2.4 account",
        "actor",
        {"account": {"homePage": "https://lms.example.com", "name": "u-42"}},
    ),
    ("Data 2.4.2.2 anonymous group", "actor", GROUP),
    (
        "Data 2.4.2.2.s5 identified group without members",
        "actor",
        {"objectType": "Group", "account": {"homePage": "https://example.com", "name": "team"}},
    ),
    (
        "XAPI-00064 Agent as object",
        "object",
        {"objectType": "Agent", "mbox": "mailto:z@example.com"},
    ),
    ("Data 2.4.4.2 Group as object", "object", GROUP),
    ("Data 2.4.4.3 StatementRef", "object", {"objectType": "StatementRef", "id": STATEMENT_ID}),
    ("Data 2.4.4.3.s6 SubStatement", "object", SUB),
    ("Data 2.4.4.1 objectType optional", "object.objectType", REMOVE),
    ("Data 2.4.4.1.s2 empty definition", "object.definition", {}),
    ("Data 2.4.4.1.s8 choice interaction", "object.definition", CHOICE),
    (
        "Data 2.4.4.1.s15 matching lists",
        "object.definition",
        {"interactionType": "matching", "source": [{"id": "a"}], "target": [{"id": "b"}]},
    ),
    (
        "XAPI-00120 Data 4.1.s3.b2 extension values free",
        "result.extensions",
        {"http://e.x/n": None},
    ),
    ("Data 4.1 empty extensions", "context.extensions", {}),
    ("Data 2.2.s4.b2 zh-Hant tag", "verb.display", {"zh-Hant": "x", "sr-Latn-RS": "y", "cmn": "z"}),
    ("Data 2.4.5.1 scaled -1", "result.score", {"scaled": -1}),
    ("Data 4.6 fraction of seconds", "result.duration", "PT16559.14S"),
    ("Data 4.6 weeks", "result.duration", "P4W"),
    ("Data 4.6 years only", "result.duration", "P3Y"),
    ("Data 4.5 offset", "timestamp", "2023-05-04T12:00:00-05:00"),
    ("Data 4.5 RFC 3339 +00:00", "timestamp", "2008-09-15T15:53:00.601+00:00"),
    ("Data 4.5 basic format", "timestamp", "20080915T155300Z"),
    ("Data 2.4.10 version 1.0", "version", "1.0"),
    ("Data 2.4.10 version 1.0.9", "version", "1.0.9"),
    ("Data 2.4.9 authority agent", "authority", {"mbox": "mailto:lrs@example.com"}),
    (
        "Data 2.4.9.s3.b1 3-legged OAuth authority",
        "authority",
        {
            "objectType": "Group",
            "member": [
                {"account": {"homePage": "https://lrs.example.com", "name": "app"}},
                {"mbox": "mailto:ana@example.com"},
            ],
        },
    ),
    ("Data 2.4.8 stored", "stored", "2026-01-28T15:00:01.123456Z"),
]


@pytest.mark.parametrize(
    ("path", "value"), [pytest.param(path, value, id=req) for req, path, value in VALID]
)
def test_valid_variants_pass(path: str, value: Any) -> None:
    validate_statement(changed(statement(), path, value))


def test_complete_statement_passes_and_input_is_not_changed() -> None:
    """Data 2.4: a statement with every property validates; the caller's dict stays as sent."""
    sent = statement()
    stored = validate_statement(sent)
    assert sent["context"]["contextActivities"]["parent"] == {
        "id": "https://example.com/courses/rust"
    }
    assert stored["context"]["contextActivities"]["parent"] == [
        {"id": "https://example.com/courses/rust"}
    ]


def test_context_activities_become_arrays_also_in_substatements() -> None:
    """XAPI-00096 Data 2.4.6.2.s4.b3, b4: single context activities are stored as arrays."""
    sub = {**SUB, "context": {"contextActivities": {"category": {"id": "https://e.x/c"}}}}
    stored = validate_statement(statement(object=sub))
    assert stored["object"]["context"]["contextActivities"]["category"] == [{"id": "https://e.x/c"}]


@pytest.mark.parametrize("key", ["revision", "platform"])
def test_revision_and_platform_need_an_activity_object(key: str) -> None:
    """XAPI-00090, XAPI-00091 Data 2.4.6.s4.b1, b2: revision/platform only with an Activity."""
    validate_statement(changed(statement(), f"context.{key}", "r1"))
    for other in ({"objectType": "Agent", "mbox": "mailto:z@example.com"}, SUB):
        with pytest.raises(InvalidStatement) as raised:
            validate_statement(changed(statement(object=other), f"context.{key}", "r1"))
        assert raised.value.path == f"context.{key}"


def test_voiding_statement_needs_a_statement_ref() -> None:
    """Data 2.3.2.s2.b1: the object of a voiding statement is a StatementRef."""
    voided = {"id": "http://adlnet.gov/expapi/verbs/voided"}
    with pytest.raises(InvalidStatement) as raised:
        validate_statement(statement(verb=voided))
    assert raised.value.path == "object"
    validate_statement(
        {
            "actor": {"mbox": "mailto:admin@example.com"},
            "verb": voided,
            "object": {"objectType": "StatementRef", "id": STATEMENT_ID},
        }
    )


CONTEXT_AGENT = {
    "objectType": "contextAgent",
    "agent": {"mbox": "mailto:coach@example.com"},
    "relevantTypes": ["https://example.com/types/coach"],
}
CONTEXT_GROUP = {"objectType": "contextGroup", "group": GROUP}


def test_context_agents_and_groups_in_2_0() -> None:
    """xAPI 2.0 context: contextAgents and contextGroups are accepted in 2.0.0 only."""
    body = changed(statement(), "context.contextAgents", [CONTEXT_AGENT])
    body = changed(body, "context.contextGroups", [CONTEXT_GROUP])
    validate_statement(body, version="2.0.0")
    with pytest.raises(InvalidStatement):
        validate_statement(body, version="1.0.3")


@pytest.mark.parametrize(
    ("entry", "error_path"),
    [
        ({**CONTEXT_AGENT, "objectType": "Should fail"}, "context.contextAgents[0].objectType"),
        ({**CONTEXT_AGENT, "agent": {"key": "x"}}, "context.contextAgents[0].agent.key"),
        ({**CONTEXT_AGENT, "relevantTypes": []}, "context.contextAgents[0].relevantTypes"),
        ({**CONTEXT_AGENT, "relevantTypes": ["abc"]}, "context.contextAgents[0].relevantTypes[0]"),
    ],
    ids=["objectType", "agent", "empty relevantTypes", "non-IRI relevantTypes"],
)
def test_context_agents_rules(entry: dict[str, Any], error_path: str) -> None:
    """xAPI 2.0 contextAgents: objectType "contextAgent", a valid agent, relevantTypes IRIs."""
    with pytest.raises(InvalidStatement) as raised:
        validate_statement(changed(statement(), "context.contextAgents", [entry]), version="2.0.0")
    assert raised.value.path == error_path


def test_statement_version_per_api_version() -> None:
    """Data 2.4.10.s3: 1.0.3 accepts 1.0.x only; 2.0.0 also accepts 2.0.x."""
    validate_statement(statement(version="2.0.0"), version="2.0.0")
    validate_statement(statement(version="1.0.3"), version="2.0.0")
    with pytest.raises(InvalidStatement):
        validate_statement(statement(version="2.0.0"), version="1.0.3")


def test_batch_errors_carry_the_index() -> None:
    """Communication 2.1.2: a POST body is one statement or an array; errors name the index."""
    good = statement()
    bad = changed(statement(), "actor.mbox", "ana@example.com")
    assert len(validate_statements([good, good])) == 2
    assert len(validate_statements(good)) == 1
    with pytest.raises(InvalidStatement) as raised:
        validate_statements([good, bad])
    assert raised.value.path == "[1].actor.mbox"
    assert str(raised.value).startswith("[1].actor.mbox: must be a mailto IRI")
    with pytest.raises(InvalidStatement):
        validate_statements([])


def test_minimal_statement() -> None:
    """Data 2.4: actor, verb and object are all a statement needs."""
    validate_statement(
        {"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "urn:x:v"}, "object": ACTIVITY}
    )


@pytest.mark.parametrize("body", [None, [], "statement", 5], ids=["null", "array", "str", "num"])
def test_statement_must_be_an_object(body: object) -> None:
    """Data 2.4: a statement is a JSON object."""
    with pytest.raises(InvalidStatement) as raised:
        validate_statement(body)
    assert raised.value.path == ""
