"""Statement forms (Communication 2.1.3 `format`) and the same-statement comparison."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.xapi import (
    best_language,
    in_format,
    ranked_languages,
    same_statement,
    validate_statement,
)

from .statements import STATEMENT_ID, changed, statement

STORED = validate_statement(
    statement(
        stored="2026-01-28T15:00:01.000Z",
        authority={"mbox": "mailto:lrs@example.com"},
        version="1.0.0",
    )
)


def test_exact_is_the_stored_statement_and_a_copy() -> None:
    """Communication 2.1.3 format=exact: returned as stored."""
    exact = in_format(STORED, "exact")
    assert exact == STORED
    exact["verb"]["id"] = "urn:changed"
    assert STORED["verb"]["id"] != "urn:changed"


def test_ids_keeps_only_identifiers() -> None:
    """Communication 2.1.3 format=ids: Agents, Groups, Activities and Verbs by their ids."""
    ids = in_format(STORED, "ids")
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:ana@example.com"}
    assert ids["verb"] == {"id": "http://adlnet.gov/expapi/verbs/completed"}
    assert ids["object"] == {"id": STORED["object"]["id"]}
    assert ids["context"]["team"] == {
        "objectType": "Group",
        "member": [{"mbox": "mailto:cy@example.com"}],
    }
    assert ids["context"]["contextActivities"]["parent"] == [
        {"id": "https://example.com/courses/rust"}
    ]
    assert ids["result"] == STORED["result"]
    assert ids["authority"] == {"mbox": "mailto:lrs@example.com"}


def test_ids_of_identified_group_drops_members_and_walks_substatements() -> None:
    group = {
        "objectType": "Group",
        "name": "Team",
        "account": {"homePage": "https://e.x", "name": "t"},
        "member": [{"mbox": "mailto:a@example.com", "name": "A"}],
    }
    sub = {
        "objectType": "SubStatement",
        "actor": group,
        "verb": {"id": "urn:v", "display": {"en": "v"}},
        "object": {"id": "urn:a", "definition": {"name": {"en": "A"}}},
    }
    ids = in_format(validate_statement(statement(object=sub, context={})), "ids")
    assert ids["object"]["actor"] == {"objectType": "Group", "account": group["account"]}
    assert ids["object"]["verb"] == {"id": "urn:v"}
    assert ids["object"]["object"] == {"id": "urn:a"}


def test_canonical_reduces_language_maps_to_one_language() -> None:
    """Communication 2.1.3 format=canonical: one language per map, from Accept-Language."""
    canonical = in_format(STORED, "canonical", languages=ranked_languages("de-CH, en;q=0.5"))
    assert canonical["object"]["definition"]["name"] == {"de": "Lektion 1"}
    assert canonical["object"]["definition"]["description"] == {"en-US": "Ownership"}
    assert canonical["verb"]["display"] == {"en-US": "completed"}
    assert canonical["actor"] == STORED["actor"]


def test_canonical_uses_the_lrs_definitions_and_displays() -> None:
    """Canonical: the LRS's definition of an Activity and display of a Verb replace the sent."""
    iri = STORED["object"]["id"]
    canonical = in_format(
        STORED,
        "canonical",
        languages=["fr"],
        definitions={iri: {"name": {"en": "Lesson one", "fr": "Leçon un"}}},
        displays={STORED["verb"]["id"]: {"fr": "a terminé", "en": "completed"}},
    )
    assert canonical["object"]["definition"] == {"name": {"fr": "Leçon un"}}
    assert canonical["verb"]["display"] == {"fr": "a terminé"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("da, en-gb;q=0.8, en;q=0.7", ["da", "en-gb", "en"]),
        ("en;q=0.1, fr", ["fr", "en"]),
        ("de;q=0, *", ["*"]),
        ("", []),
        (None, []),
        ("en;q=x, fr", ["fr"]),
    ],
)
def test_accept_language_ranking(header: str | None, expected: list[str]) -> None:
    assert ranked_languages(header) == expected


@given(
    st.dictionaries(
        st.sampled_from(["en", "en-US", "de", "fr-CA", "zh-Hant"]), st.text(), min_size=1
    ),
    st.lists(st.sampled_from(["en", "en-us", "de-DE", "fr", "*", "ja"]), max_size=3),
)
def test_best_language_keeps_exactly_one_entry_of_the_map(
    language_map: dict[str, str], languages: list[str]
) -> None:
    """Canonical language filtering returns one language of those present (never invents)."""
    chosen = best_language(language_map, languages)
    assert len(chosen) == 1
    [(key, value)] = chosen.items()
    assert language_map[key] == value


def test_same_statement_ignores_what_the_lrs_may_change() -> None:
    """Data 2.3.1.s9: differences allowed by the immutability exceptions are ignored."""
    sent: dict[str, Any] = statement()
    del sent["id"]
    sent["timestamp"] = "2026-01-28T16:00:00.000400+01:00"
    sent["verb"]["display"] = {"de": "abgeschlossen"}
    sent["object"]["definition"] = {"name": {"en": "Other"}}
    sent["actor"]["mbox"] = "mailto:ana@EXAMPLE.com"
    sent["result"]["duration"] = "PT4M30.501S"
    sent["context"]["registration"] = sent["context"]["registration"].upper()
    sent["context"]["team"]["member"] = [
        {"mbox": "mailto:zed@example.com"},
        {"mbox": "mailto:cy@example.com"},
    ]
    stored = copy.deepcopy(STORED)
    stored["context"]["team"]["member"] = list(reversed(sent["context"]["team"]["member"]))
    assert same_statement(stored, validate_statement(sent))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("verb.id", "http://adlnet.gov/expapi/verbs/passed"),
        ("object.id", "https://example.com/other"),
        ("actor.name", "Anna"),
        ("result.score.raw", 9),
        ("result.duration", "PT4M31S"),
        ("timestamp", "2026-01-28T15:00:00.002Z"),
        ("context.language", "de"),
        ("attachments[0].length", 1),
    ],
)
def test_different_statements_conflict(path: str, value: Any) -> None:
    """Data 2.3.1.s9.b2: any other difference makes a different statement (409 on resend)."""
    assert not same_statement(STORED, validate_statement(changed(statement(), path, value)))


def test_missing_timestamp_on_resend_is_the_lrs_assigned_one() -> None:
    """Data 2.3.1.b1: a timestamp the LRS assigned is not a difference."""
    sent = statement()
    del sent["timestamp"]
    assert same_statement(STORED, validate_statement(sent))
    assert STORED["id"] == STATEMENT_ID


@given(
    members=st.permutations(
        [{"mbox": f"mailto:m{n}@example.com"} for n in range(4)]
        + [{"account": {"homePage": "https://e.x", "name": "m9"}}]
    ),
    offset_minutes=st.integers(-12 * 60, 14 * 60),
    single=st.booleans(),
)
def test_same_statement_survives_every_allowed_rewrite(
    members: list[dict[str, Any]], offset_minutes: int, single: bool
) -> None:
    """Data 2.3.1.b4, b5; 2.4.6.2.s4: member order, timestamp zone and context activity
    arrays never make a resend a conflict, and the exact and canonical forms of the stored
    statement are the same statement as it (ids drops names, so it is not)."""
    base = changed(statement(), "context.team.member", members)
    stored = validate_statement(base)
    resent = copy.deepcopy(base)
    resent["context"]["team"]["member"] = list(reversed(members))
    shifted = datetime(2026, 1, 28, 15, tzinfo=UTC).astimezone(
        timezone(timedelta(minutes=offset_minutes))
    )
    resent["timestamp"] = shifted.isoformat()
    parent = {"id": "https://example.com/courses/rust"}
    resent["context"]["contextActivities"]["parent"] = parent if single else [parent]
    assert same_statement(stored, validate_statement(resent))
    for form in ("exact", "canonical"):
        assert same_statement(stored, in_format(stored, form, languages=["de"]))
