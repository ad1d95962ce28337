"""From a stored statement to the native events it means, exactly as an app would send them.

The mapping (docs/xapi.md has the table):

- Only statements about an Activity by an Agent the tenant's `UserRule` maps to a user count;
  voiding statements, session verbs (launched, initialized) and unknown verbs give nothing.
- The verb and `result.completion` / `result.success` give the item's status; a completion of
  a course-typed Activity gives `course.completed` instead.
- passed / failed with a usable score give `quiz.attempted` (score as raw of max, else
  scaled x 100 of 100); other scores become `content.progressed`'s score (scaled x 100, else
  raw).
- The video profile's time, length and played-segments give `media.progressed`.
- Each event's id is `xapi:<statement id>:<slot>`, one fixed slot per event type, so a resend
  derives the same ids and a voiding can name them without the rules (`retracted_event_ids`).

The events are built typed (the domain's payload models), so ingest takes them as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.domain.events import (
    ContentProgressed,
    CourseCompleted,
    MediaProgressed,
    ProgressEvent,
    QuizAttempted,
)
from shared.domain.ids import Id
from shared.domain.payloads import (
    ContentProgressPayload,
    CourseCompletionPayload,
    MediaProgressPayload,
    QuizAttemptPayload,
)
from shared.domain.values import MAX_AMOUNT, STATUS_RANK, Status

from .formats import iso_ms, parse_duration_seconds, parse_timestamp, to_milliseconds
from .identity import UserRule, content_id_for, user_id_for
from .statement import VOIDED
from .vocabulary import (
    COURSE_TYPES,
    PLAYED_SEGMENTS,
    PROGRESS_EXTENSIONS,
    VERB_MEANINGS,
    VIDEO_LENGTH,
    VIDEO_TIME,
    VIDEO_TIME_TO,
)

__all__ = ["SLOTS", "DerivedEvents", "MappingRules", "derive_events", "event_id"]

Slot = Literal["content", "course", "media", "quiz"]
SLOTS: tuple[Slot, ...] = ("content", "course", "media", "quiz")
"""The one event of each kind a statement can derive; its eventId ends with the slot."""

_MAX_IRI_IN_EXTENSIONS = 2048
_WATCH_VERBS = frozenset({"paused", "seeked", "completed", "terminated"})


class MappingRules(BaseModel):
    """A tenant's choices for the mapping; the defaults suit most content."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, validate_by_name=True
    )

    users: UserRule = UserRule()
    client_id: Id = "xapi"
    """The clientId of every derived event."""
    course_from: Literal["parent", "grouping", "none"] = "parent"
    """Which contextActivities list names an item's course (its course-typed or first entry)."""
    carry_extensions: bool = True
    """Whether payloads carry `extensions` (the long IRI, progress, duration)."""


@dataclass(frozen=True)
class DerivedEvents:
    """What one statement means for progress.

    Attributes:
        user_id: The user the events belong to; None when the actor maps to no user.
        progress_events: The typed native events, empty when the statement has no progress
            meaning.
        reason: Why there are no events, for logs and metrics; None when there are some.
    """

    user_id: str | None
    progress_events: list[ProgressEvent] = field(default_factory=list)
    reason: str | None = None

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events as an app would send them (camelCase JSON), as docs/xapi.md shows them."""
        return [
            {**event.model_dump(mode="json"), "occurredAt": iso_ms(event.occurred_at)}
            for event in self.progress_events
        ]


def event_id(statement_id: str, slot: Slot) -> str:
    """The eventId of the event a statement derives in `slot`."""
    return f"xapi:{statement_id.lower()}:{slot}"


def derive_events(statement: dict[str, Any], rules: MappingRules) -> DerivedEvents:
    """Map one stored statement (validated, with id and timestamp) to native events.

    Pure and deterministic: the same statement and rules give the same events, ids included.
    """
    verb = statement["verb"]["id"]
    target = statement["object"]
    if verb == VOIDED:
        return DerivedEvents(None, reason="voiding statement: retract what it voids")
    if target.get("objectType", "Activity") != "Activity":
        return DerivedEvents(None, reason="object is not an Activity")
    user_id = user_id_for(statement["actor"], rules.users)
    if user_id is None:
        return DerivedEvents(None, reason="actor maps to no user under the tenant's rule")
    meaning = VERB_MEANINGS.get(verb)
    if meaning is None or meaning == "session":
        return DerivedEvents(user_id, reason="verb carries no progress")
    when = parse_timestamp(statement.get("timestamp") or statement["stored"])
    assert when is not None, "a stored statement has a valid timestamp"
    statement_id: str = statement["id"]
    result: dict[str, Any] = statement.get("result", {})
    status = _status(meaning, result)
    content_id = content_id_for(target["id"])
    payloads: dict[Slot, _Payload] = {}
    if _is_course(target):
        if status in ("completed", "passed"):
            payloads["course"] = CourseCompletionPayload(course_id=content_id)
    else:
        payloads.update(_item_payloads(statement, meaning, status, content_id, rules))
    occurred_at = to_milliseconds(when)
    events = [
        _event(
            _Envelope(
                event_id=event_id(statement_id, slot),
                occurred_at=occurred_at,
                client_id=rules.client_id,
            ),
            payload,
        )
        for slot, payload in sorted(payloads.items())
    ]
    return DerivedEvents(user_id, events, None if events else "statement changes no progress")


_Payload = (
    ContentProgressPayload | CourseCompletionPayload | MediaProgressPayload | QuizAttemptPayload
)


class _Envelope(TypedDict):
    """What an event a statement derives has besides its type and payload."""

    event_id: str
    occurred_at: datetime
    client_id: str


def _event(envelope: _Envelope, payload: _Payload) -> ProgressEvent:
    """The event that carries `payload`, of the type the payload belongs to."""
    match payload:
        case ContentProgressPayload():
            return ContentProgressed(**envelope, type="content.progressed", payload=payload)
        case CourseCompletionPayload():
            return CourseCompleted(**envelope, type="course.completed", payload=payload)
        case MediaProgressPayload():
            return MediaProgressed(**envelope, type="media.progressed", payload=payload)
        case QuizAttemptPayload():
            return QuizAttempted(**envelope, type="quiz.attempted", payload=payload)


def _status(meaning: str, result: dict[str, Any]) -> Status | None:
    """The status a verb and its result claim (None: the statement claims none)."""
    base: dict[str, Status] = {
        "completed": "completed",
        "passed": "passed",
        "failed": "in_progress",
        "attempted": "in_progress",
        "progressed": "in_progress",
        "experienced": "in_progress",
        "scored": "in_progress",
    }
    status = base.get(meaning)
    if result.get("completion") is True:
        status = _higher(status, "completed")
    if result.get("success") is True and meaning != "failed":
        status = _higher(status, "passed")
    return status


def _higher(current: Status | None, other: Status) -> Status:
    if current is None or STATUS_RANK[other] > STATUS_RANK[current]:
        return other
    return current


def _is_course(activity: dict[str, Any]) -> bool:
    return activity.get("definition", {}).get("type") in COURSE_TYPES


def _item_payloads(
    statement: dict[str, Any],
    meaning: str,
    status: Status | None,
    content_id: str,
    rules: MappingRules,
) -> dict[Slot, _Payload]:
    result: dict[str, Any] = statement.get("result", {})
    course_id = _course_id(statement, rules)
    payloads: dict[Slot, _Payload] = {}
    score = result.get("score", {})
    graded = _graded(score) if meaning in ("passed", "failed") else None
    if graded is not None:
        points, out_of = graded
        payloads["quiz"] = QuizAttemptPayload(
            content_id=content_id,
            score=points,
            max_score=out_of,
            passed=meaning == "passed",
            course_id=course_id,
        )
        covered: Status = "passed" if meaning == "passed" else "in_progress"
        if status is not None and STATUS_RANK[status] <= STATUS_RANK[covered]:
            status = None
    if status is not None:
        extensions = _extensions(statement, content_id) if rules.carry_extensions else {}
        payloads["content"] = ContentProgressPayload(
            content_id=content_id,
            status=status,
            score=None if graded is not None else _item_score(score),
            course_id=course_id,
            extensions=extensions or None,
        )
    media = _media(statement, meaning)
    if media is not None:
        payloads["media"] = MediaProgressPayload(
            content_id=content_id, course_id=course_id, **media
        )
    return payloads


def _course_id(statement: dict[str, Any], rules: MappingRules) -> str | None:
    if rules.course_from == "none":
        return None
    listed = statement.get("context", {}).get("contextActivities", {}).get(rules.course_from, [])
    if not listed:
        return None
    course = next((activity for activity in listed if _is_course(activity)), listed[0])
    return content_id_for(course["id"])


def _amount(value: object) -> float | int | None:
    """`value` if it is a number an event may carry (finite, 0 to MAX_AMOUNT), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_AMOUNT:
        return None
    return value


def _graded(score: dict[str, Any]) -> tuple[float | int, float | int] | None:
    """(score, maxScore) of a quiz attempt: raw of max, else scaled x 100 of 100."""
    raw, top = _amount(score.get("raw")), _amount(score.get("max"))
    if raw is not None and top is not None and top > 0 and score.get("min", 0) == 0:
        return raw, top
    scaled = _amount(score.get("scaled"))
    return (round(scaled * 100, 6), 100) if scaled is not None else None


def _item_score(score: dict[str, Any]) -> float | int | None:
    scaled = _amount(score.get("scaled"))
    return round(scaled * 100, 6) if scaled is not None else _amount(score.get("raw"))


def _extensions(statement: dict[str, Any], content_id: str) -> dict[str, Any]:
    """What the native payload keeps of the statement beyond the mapped fields."""
    result: dict[str, Any] = statement.get("result", {})
    found: dict[str, Any] = {}
    iri = statement["object"]["id"]
    if iri != content_id and len(iri) <= _MAX_IRI_IN_EXTENSIONS:
        found["xapiActivityId"] = iri
    for key in PROGRESS_EXTENSIONS:
        progress = _amount(result.get("extensions", {}).get(key))
        if progress is not None:
            found["xapiProgress"] = progress
    duration = parse_duration_seconds(result.get("duration", "")) if "duration" in result else None
    if duration is not None:
        found["xapiDurationSeconds"] = round(duration, 2)
    return found


def _media(statement: dict[str, Any], meaning: str) -> dict[str, Any] | None:
    """The video profile's position, length and newly watched seconds, if it has a position."""
    result_ext: dict[str, Any] = statement.get("result", {}).get("extensions", {})
    context_ext: dict[str, Any] = statement.get("context", {}).get("extensions", {})
    position = _amount(result_ext.get(VIDEO_TIME_TO, result_ext.get(VIDEO_TIME)))
    if position is None:
        return None
    media: dict[str, Any] = {"position_seconds": position}
    length = _amount(context_ext.get(VIDEO_LENGTH))
    if length is not None:
        media["duration_seconds"] = length
    verb_name = statement["verb"]["id"].rsplit("/", 1)[-1]
    if meaning in ("media", "completed", "terminated") and verb_name in _WATCH_VERBS:
        watched = _last_segment(result_ext.get(PLAYED_SEGMENTS))
        if watched is not None:
            media["watched_seconds"] = watched
    return media


def _last_segment(segments: object) -> float | None:
    """Length of the last `start[.]end` segment: the run of play that just ended."""
    if not isinstance(segments, str) or not segments:
        return None
    start, _, end = segments.split("[,]")[-1].partition("[.]")
    try:
        length = float(end) - float(start)
    except ValueError:
        return None
    return _amount(round(length, 3))
