"""Legacy state import: a saved state in the snapshot's own shape, turned into events.

Each derived event's id comes from the user, the item and the field, so importing the same
state again derives the same events (a no-op), and a later real event wins by the usual
rules. Times are the state's own where it has them, else the import's `asOf`.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from .errors import ContractViolation
from .values import Status

__all__ = ["ImportedState", "events_from_state", "parse_state"]

_TICK = timedelta(microseconds=1)
_MAX_QUIZ_ATTEMPTS = 100


class _Lenient(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_alias=True, validate_by_name=True
    )


class _Media(_Lenient):
    last_position: float | None = None
    max_position: float | None = None
    duration: float | None = None
    watched_seconds: float | None = None


class _Quiz(_Lenient):
    attempts: int = Field(default=1, ge=1)
    best_score: float
    last_score: float | None = None
    max_score: float


class _Item(_Lenient):
    status: Status = "not_started"
    score: float | None = None
    content_version: str | None = None
    course_id: str | None = None
    completed_at: datetime | None = None
    last_attempt_at: datetime | None = None
    interactions: dict[str, dict[str, Any]] | None = None
    media: _Media | None = None
    quiz: _Quiz | None = None
    rating: str | None = None
    scheduled_for: date | None = None
    extensions: dict[str, Any] | None = None


class _Course(_Lenient):
    completed_at: datetime


class _Onboarding(_Lenient):
    completed: bool
    path_id: str | None = None
    completed_at: datetime | None = None


class ImportedState(_Lenient):
    """A saved state in the snapshot's shape (`GET /progress`'s `snapshot`, or a subset)."""

    tenant_id: str | None = None
    user_id: str | None = None
    items: dict[str, _Item] = Field(default_factory=dict, max_length=10_000)
    courses: dict[str, _Course] = Field(default_factory=dict, max_length=1_000)
    onboarding: _Onboarding | None = None
    active_path_id: str | None = None
    extensions: dict[str, Any] | None = None
    streak: dict[str, Any] | None = None
    last_updated: datetime | None = None
    event_count: int | None = None


def parse_state(raw: object) -> ImportedState:
    """Validate a saved state's shape.

    Raises:
        ContractViolation: Naming the first offending field (as `state.items.x.status`).
    """
    try:
        return ImportedState.model_validate(raw)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in ("state", *first["loc"]))
        raise ContractViolation(where, first["msg"]) from None


def events_from_state(
    state: ImportedState, *, user_id: str, as_of: datetime, client_id: str = "import"
) -> list[dict[str, Any]]:
    """The events (as an app would send them) that reduce to the saved state.

    Each is validated by the contract when it is ingested; the ids are fixed per user, item
    and field.
    """
    built: list[dict[str, Any]] = []

    def add(field: str, kind: str, at: datetime, payload: dict[str, Any] | None) -> None:
        digest = hashlib.sha256(f"{user_id}\x1f{field}".encode()).hexdigest()[:32]
        event: dict[str, Any] = {
            "eventId": f"imp-{digest}",
            "occurredAt": at.isoformat(),
            "clientId": client_id,
            "type": kind,
        }
        if payload is not None:  # absent, not null; a null pathId clears the active path
            event["payload"] = {k: v for k, v in payload.items() if v is not None or k == "pathId"}
        built.append(event)

    for content_id, item in state.items.items():
        _item_events(add, content_id, item, as_of)
    for course_id, course in state.courses.items():
        add(
            f"course\x1f{course_id}",
            "course.completed",
            course.completed_at,
            {"courseId": course_id},
        )
    onboarded = state.onboarding is not None and state.onboarding.completed
    if state.onboarding is not None and onboarded and state.onboarding.path_id:
        at = state.onboarding.completed_at or as_of
        add("onboarding", "onboarding.completed", at, {"pathId": state.onboarding.path_id})
    if state.active_path_id is not None or state.extensions:
        # Top-level extensions travel on the one event without an item an import sends.
        add(
            "activePath",
            "activePath.set",
            as_of,
            {"pathId": state.active_path_id, "extensions": state.extensions},
        )
    return built


def _item_events(add: Any, content_id: str, item: _Item, as_of: datetime) -> None:
    """Events for one item: status, interactions, media, quiz, rating, schedule."""
    key = f"item\x1f{content_id}"
    at = item.completed_at or item.last_attempt_at or as_of
    base = {"contentId": content_id, "courseId": item.course_id}
    add(
        f"{key}\x1fstatus",
        "content.progressed",
        at,
        {
            **base,
            "status": item.status,
            "score": item.score,
            "contentVersion": item.content_version,
            "extensions": item.extensions,
        },
    )
    for interaction_id, state in (item.interactions or {}).items():
        add(
            f"{key}\x1finteraction\x1f{interaction_id}",
            "content.progressed",
            at,
            {
                **base,
                "status": item.status,
                "interaction": {"interactionId": interaction_id, "state": state},
            },
        )
    if item.media is not None:
        _media_events(add, key, base, item.media, as_of)
    if item.quiz is not None:
        quiz = item.quiz
        attempts = min(quiz.attempts, _MAX_QUIZ_ATTEMPTS)
        passed = item.status == "passed"
        for number in range(attempts):
            last = number == attempts - 1
            score = quiz.last_score if last and quiz.last_score is not None else quiz.best_score
            add(
                f"{key}\x1fquiz\x1f{number}",
                "quiz.attempted",
                (item.last_attempt_at or as_of) - _TICK * (attempts - 1 - number),
                {
                    **base,
                    "score": score,
                    "maxScore": quiz.max_score,
                    "passed": passed and score == quiz.best_score,
                },
            )
    if item.rating is not None:
        add(
            f"{key}\x1frating",
            "content.rated",
            as_of,
            {"contentId": content_id, "rating": item.rating},
        )
    if item.scheduled_for is not None:
        add(
            f"{key}\x1fschedule",
            "content.scheduled",
            as_of,
            {"contentId": content_id, "scheduledFor": item.scheduled_for.isoformat()},
        )


def _media_events(add: Any, key: str, base: dict[str, Any], media: _Media, as_of: datetime) -> None:
    """The furthest position with the watch time, then the last position (a tick later)."""
    furthest = media.max_position if media.max_position is not None else media.last_position
    if furthest is None:
        return
    add(
        f"{key}\x1fmedia\x1fmax",
        "media.progressed",
        as_of - _TICK,
        {
            **base,
            "positionSeconds": furthest,
            "durationSeconds": media.duration,
            "watchedSeconds": media.watched_seconds,
        },
    )
    if media.last_position is not None and media.last_position != furthest:
        add(
            f"{key}\x1fmedia\x1flast",
            "media.progressed",
            as_of,
            {**base, "positionSeconds": media.last_position},
        )
