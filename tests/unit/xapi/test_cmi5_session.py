"""A cmi5-style session sent as statements folds to the snapshot its native events give.

Issue 18, "Done when": launched, initialized, progressed x n, completed, passed, terminated
(and the LMS's satisfied on the course) yield the same snapshot and course view as the
equivalent native events an app would send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.domain import (
    RecordedEvent,
    Snapshot,
    course_view,
    parse_course,
    reduce,
    validate_event,
)
from shared.xapi import MappingRules, derive_events, validate_statement

TENANT = "demo"
NOW = datetime(2100, 1, 1, tzinfo=UTC)
COURSE = "https://example.com/courses/rust"
AU = "https://example.com/courses/rust/au-1"
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
REGISTRATION = "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
RULES = MappingRules(carry_extensions=False)


def cmi5_statement(
    number: int, verb: str, at: str, result: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One statement of the session as an AU (or the LMS) sends it."""
    body: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "actor": {"account": {"homePage": "https://lms.example.com", "name": "learner-7"}},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {
            "id": AU,
            "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"},
        },
        "timestamp": at,
        "context": {
            "registration": REGISTRATION,
            "contextActivities": {
                "parent": {
                    "id": COURSE,
                    "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course"},
                },
                "category": [{"id": CMI5}],
            },
            "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "s-1"},
        },
    }
    if result is not None:
        body["result"] = result
    return validate_statement(body)


ADL = "http://adlnet.gov/expapi/verbs/"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
SESSION = [
    cmi5_statement(1, ADL + "launched", "2026-03-02T09:00:00Z"),
    cmi5_statement(2, ADL + "initialized", "2026-03-02T09:00:01Z"),
    cmi5_statement(3, ADL + "progressed", "2026-03-02T09:05:00Z", {"extensions": {PROGRESS: 30}}),
    cmi5_statement(4, ADL + "progressed", "2026-03-02T09:10:00Z", {"extensions": {PROGRESS: 70}}),
    cmi5_statement(5, ADL + "progressed", "2026-03-02T09:14:00Z", {"extensions": {PROGRESS: 100}}),
    cmi5_statement(
        6, ADL + "completed", "2026-03-02T09:15:00Z", {"completion": True, "duration": "PT15M"}
    ),
    cmi5_statement(
        7,
        ADL + "passed",
        "2026-03-02T09:16:00Z",
        {"success": True, "score": {"scaled": 0.9}, "duration": "PT16M"},
    ),
    cmi5_statement(8, ADL + "terminated", "2026-03-02T09:17:00Z", {"duration": "PT17M"}),
]
SATISFIED = validate_statement(
    {
        "id": "00000000-0000-4000-8000-000000000009",
        "actor": {"account": {"homePage": "https://lms.example.com", "name": "learner-7"}},
        "verb": {"id": "https://w3id.org/xapi/adl/verbs/satisfied"},
        "object": {
            "id": COURSE,
            "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course"},
        },
        "timestamp": "2026-03-02T09:17:01Z",
        "context": {"registration": REGISTRATION},
    }
)


def native(kind: str, at: str, payload: dict[str, Any], number: int) -> dict[str, Any]:
    return {
        "eventId": f"app-{number}",
        "occurredAt": at,
        "clientId": "course-player",
        "type": kind,
        "payload": payload,
    }


ITEM = {"contentId": AU, "courseId": COURSE}
NATIVE = [
    native("content.progressed", "2026-03-02T09:05:00Z", {**ITEM, "status": "in_progress"}, 1),
    native("content.progressed", "2026-03-02T09:10:00Z", {**ITEM, "status": "in_progress"}, 2),
    native("content.progressed", "2026-03-02T09:14:00Z", {**ITEM, "status": "in_progress"}, 3),
    native("content.progressed", "2026-03-02T09:15:00Z", {**ITEM, "status": "completed"}, 4),
    native(
        "quiz.attempted",
        "2026-03-02T09:16:00Z",
        {**ITEM, "score": 90, "maxScore": 100, "passed": True},
        5,
    ),
    native("course.completed", "2026-03-02T09:17:01Z", {"courseId": COURSE}, 6),
]


def fold(raw_events: list[dict[str, Any]], user_id: str) -> Snapshot:
    recorded = [
        RecordedEvent(
            tenant_id=TENANT,
            user_id=user_id,
            received_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
            event=validate_event(raw, now=NOW),
        )
        for raw in raw_events
    ]
    return reduce(recorded, tenant_id=TENANT, user_id=user_id)


def test_cmi5_session_folds_like_native_events() -> None:
    derived = [derive_events(statement, RULES) for statement in [*SESSION, SATISFIED]]
    assert {result.user_id for result in derived} == {"learner-7"}
    mapped = [event for result in derived for event in result.events]
    assert [event["type"] for event in mapped] == [event["type"] for event in NATIVE]

    from_statements = fold(mapped, "learner-7")
    from_native = fold(NATIVE, "learner-7")
    assert from_statements.to_api() == from_native.to_api()
    item = from_statements.to_api()["items"][AU]
    assert item["status"] == "passed"
    assert item["quiz"] == {"attempts": 1, "bestScore": 90, "lastScore": 90, "maxScore": 100}

    course = parse_course({"courseId": COURSE, "items": [{"contentId": AU, "kind": "lesson"}]})
    assert course_view(course, from_statements, None) == course_view(course, from_native, None)
    assert course_view(course, from_statements, None).percentage == 100


def test_resent_session_derives_the_same_event_ids() -> None:
    """Communication 2.1.1: an identical resend is a no-op; its events dedupe by eventId."""
    first = [event for s in SESSION for event in derive_events(s, RULES).events]
    again = [event for s in SESSION for event in derive_events(s, RULES).events]
    assert first == again
    assert fold(first + again, "learner-7").to_api() == fold(first, "learner-7").to_api()
