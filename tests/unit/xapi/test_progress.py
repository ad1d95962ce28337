"""The mapping from statements to native events (issue 18, "Progress from statements")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import validate_event
from shared.domain.ids import ID_MAX_LENGTH
from shared.xapi import (
    MappingRules,
    content_id_for,
    derive_events,
    is_voidable,
    retracted_event_ids,
    validate_statement,
    voided_statement_id,
)
from shared.xapi.vocabulary import VERB_MEANINGS

from .statements import STATEMENT_ID

ADL = "http://adlnet.gov/expapi/verbs/"
LESSON = "https://example.com/courses/rust/lesson-1"
COURSE = "https://example.com/courses/rust"
PLAIN = MappingRules(carry_extensions=False)
NOW = datetime(2100, 1, 1, tzinfo=UTC)


def stmt(verb: str, result: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": STATEMENT_ID,
        "actor": {"account": {"homePage": "https://lms.example.com", "name": "u-42"}},
        "verb": {"id": verb if "/" in verb else ADL + verb},
        "object": {"id": LESSON, "objectType": "Activity"},
        "timestamp": "2026-01-28T16:00:00.250+01:00",
        "context": {"contextActivities": {"parent": [{"id": COURSE}]}},
    }
    if result is not None:
        body["result"] = result
    body.update(extra)
    return validate_statement(body)


def events(statement: dict[str, Any], rules: MappingRules = PLAIN) -> list[dict[str, Any]]:
    return derive_events(statement, rules).events


def test_completed_maps_to_content_progressed_with_envelope() -> None:
    """Verb completed: one content.progressed, eventId from statement id, occurredAt in UTC."""
    [event] = events(stmt("completed"))
    assert event == {
        "eventId": f"xapi:{STATEMENT_ID}:content",
        "occurredAt": "2026-01-28T15:00:00.250Z",
        "clientId": "xapi",
        "type": "content.progressed",
        "payload": {"contentId": LESSON, "status": "completed", "courseId": COURSE},
    }
    validate_event(event, now=NOW)


@pytest.mark.parametrize(
    ("verb", "result", "status"),
    [
        ("attempted", None, "in_progress"),
        ("experienced", None, "in_progress"),
        ("progressed", None, "in_progress"),
        ("passed", None, "passed"),
        ("failed", None, "in_progress"),
        ("experienced", {"completion": True}, "completed"),
        ("progressed", {"success": True}, "passed"),
        ("failed", {"completion": True, "success": False}, "completed"),
        ("terminated", {"completion": True}, "completed"),
        ("https://w3id.org/xapi/adl/verbs/satisfied", None, "completed"),
    ],
)
def test_status_from_verb_and_result(verb: str, result: Any, status: str) -> None:
    """Verbs and result.completion / result.success give the item's status."""
    [event] = events(stmt(verb, result))
    assert event["payload"]["status"] == status


@pytest.mark.parametrize(
    "verb",
    ["launched", "initialized", "terminated", "abandoned", "answered", "http://e.x/verbs/liked"],
)
def test_statements_without_progress_meaning_derive_nothing(verb: str) -> None:
    """Session verbs, a bare terminated and unknown verbs change no snapshot."""
    derived = derive_events(stmt(verb), PLAIN)
    assert derived.events == []
    assert derived.reason is not None


def test_passed_with_score_is_a_quiz_attempt() -> None:
    """passed / failed with a score: quiz.attempted (raw of max, else scaled x 100 of 100)."""
    [quiz] = events(stmt("passed", {"score": {"raw": 8, "min": 0, "max": 10}, "success": True}))
    assert quiz["type"] == "quiz.attempted"
    assert quiz["eventId"].endswith(":quiz")
    assert quiz["payload"] == {
        "contentId": LESSON,
        "courseId": COURSE,
        "score": 8,
        "maxScore": 10,
        "passed": True,
    }
    [quiz] = events(stmt("failed", {"score": {"scaled": 0.4}}))
    assert (quiz["payload"]["score"], quiz["payload"]["maxScore"]) == (40, 100)
    assert quiz["payload"]["passed"] is False


def test_failed_but_completed_gives_quiz_and_content_events() -> None:
    """A failed attempt with result.completion true also completes the item."""
    derived = events(stmt("failed", {"score": {"scaled": 0.4}, "completion": True}))
    assert [event["type"] for event in derived] == ["content.progressed", "quiz.attempted"]


def test_scored_and_completed_scores_are_percent() -> None:
    """result.score.scaled becomes content.progressed's score as a percentage."""
    [event] = events(stmt("scored", {"score": {"scaled": 0.755}}))
    assert event["payload"]["score"] == 75.5
    [event] = events(stmt("completed", {"score": {"raw": 12}}))
    assert event["payload"]["score"] == 12
    [event] = events(stmt("completed", {"score": {"scaled": -0.5}}))
    assert "score" not in event["payload"]


def test_course_typed_activity_completion_is_course_completed() -> None:
    """Completing (or cmi5-satisfying) a course activity gives course.completed."""
    course = {
        "id": COURSE,
        "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course"},
    }
    [event] = events(stmt("https://w3id.org/xapi/adl/verbs/satisfied", object=course))
    assert event["type"] == "course.completed"
    assert event["payload"] == {"courseId": COURSE}
    assert events(stmt("attempted", object=course)) == []


def test_video_profile_gives_media_progressed() -> None:
    """Video profile: time, length and the last played segment give media.progressed."""
    paused = stmt(
        "https://w3id.org/xapi/video/verbs/paused",
        {
            "extensions": {
                "https://w3id.org/xapi/video/extensions/time": 95.5,
                "https://w3id.org/xapi/video/extensions/played-segments": "0[.]40[,]60.5[.]95.5",
            }
        },
        context={"extensions": {"https://w3id.org/xapi/video/extensions/length": 600}},
    )
    [event] = events(paused)
    assert event["type"] == "media.progressed"
    assert event["payload"] == {
        "contentId": LESSON,
        "positionSeconds": 95.5,
        "durationSeconds": 600,
        "watchedSeconds": 35,
    }
    played = stmt(
        "https://w3id.org/xapi/video/verbs/played",
        {"extensions": {"https://w3id.org/xapi/video/extensions/time": 0}},
    )
    assert events(played)[0]["payload"] == {
        "contentId": LESSON,
        "courseId": COURSE,
        "positionSeconds": 0,
    }


def test_long_iri_maps_to_a_stable_id_and_is_kept_in_extensions() -> None:
    """Activity IRIs longer than an id may be map to a readable prefix + hash; the IRI stays."""
    long_iri = "https://example.com/" + "deep/" * 40 + "lesson?x=1"
    content_id = content_id_for(long_iri)
    assert len(content_id) == ID_MAX_LENGTH
    assert content_id.startswith("https://example.com/deep/")
    assert content_id == content_id_for(long_iri)
    assert content_id != content_id_for(long_iri + "2")
    extended = stmt(
        "progressed",
        {
            "duration": "PT1M30.5S",
            "extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 40},
        },
        object={"id": long_iri},
    )
    [event] = events(extended, MappingRules())
    assert event["payload"]["contentId"] == content_id
    assert event["payload"]["extensions"] == {
        "xapiActivityId": long_iri,
        "xapiProgress": 40,
        "xapiDurationSeconds": 90.5,
    }


def test_short_iri_is_the_content_id() -> None:
    """An IRI that is a valid id is used as it is."""
    assert content_id_for(LESSON) == LESSON


def test_unmapped_actor_gives_no_events_and_a_reason() -> None:
    derived = derive_events(stmt("completed", actor={"openid": "https://id.example.com/a"}), PLAIN)
    assert derived.user_id is None
    assert derived.events == []
    assert derived.reason == "actor maps to no user under the tenant's rule"


def test_voiding_names_every_slot_of_the_voided_statement() -> None:
    """Data 2.3.2: a voiding statement retracts the eventIds the voided one derived."""
    voiding = validate_statement(
        {
            "id": "0b3c6a8e-6b5e-4f3e-9f53-7c1e3a0f0c11",
            "actor": {"mbox": "mailto:admin@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": STATEMENT_ID.upper()},
            "timestamp": "2026-01-28T16:00:00Z",
        }
    )
    assert derive_events(voiding, PLAIN).events == []
    voided = voided_statement_id(voiding)
    assert voided == STATEMENT_ID.upper()
    retracted = retracted_event_ids(voided)
    failed = stmt("failed", {"score": {"scaled": 0.1}, "completion": True})
    derived = [event["eventId"] for event in events(failed)]
    assert set(derived) <= set(retracted)
    assert voided_statement_id(stmt("completed")) is None
    assert is_voidable(stmt("completed"))
    assert not is_voidable(voiding)


SCORES = st.fixed_dictionaries(
    {},
    optional={
        "scaled": st.floats(-1, 1),
        "raw": st.integers(-5, 20),
        "max": st.integers(1, 20),
    },
)
RESULTS = st.fixed_dictionaries(
    {},
    optional={
        "completion": st.booleans(),
        "success": st.booleans(),
        "score": SCORES,
        "duration": st.sampled_from(["PT5S", "P1DT2H", "PT0.25S"]),
        "extensions": st.fixed_dictionaries(
            {},
            optional={
                "https://w3id.org/xapi/cmi5/result/extensions/progress": st.integers(-10, 110),
                "https://w3id.org/xapi/video/extensions/time": st.floats(-5, 5000),
                "https://w3id.org/xapi/video/extensions/played-segments": st.sampled_from(
                    ["0[.]10", "5[.]3", "x", "0[.]1[,]2[.]9.5"]
                ),
            },
        ),
    },
)


@given(
    verb=st.sampled_from(sorted(VERB_MEANINGS)),
    result=RESULTS,
    iri=st.sampled_from([LESSON, "urn:x:" + "a" * 300, "https://e.x/ü"]),
    carry=st.booleans(),
)
def test_every_derived_event_is_a_valid_native_event(
    verb: str, result: dict[str, Any], iri: str, carry: bool
) -> None:
    """Whatever the statement, derived events are valid native events with stable ids."""
    score = result.get("score", {})
    if "raw" in score and "max" in score and score["raw"] > score["max"]:
        score["raw"] = score["max"]
    statement = stmt(verb, result, object={"id": iri})
    first = derive_events(statement, MappingRules(carry_extensions=carry))
    assert first == derive_events(statement, MappingRules(carry_extensions=carry))
    ids = [event["eventId"] for event in first.events]
    assert len(set(ids)) == len(ids)
    assert set(ids) <= set(retracted_event_ids(STATEMENT_ID))
    for event in first.events:
        payload = dict(event["payload"])
        extensions = payload.pop("extensions", None)
        assert extensions is None or carry
        validate_event({**event, "payload": payload}, now=NOW)
