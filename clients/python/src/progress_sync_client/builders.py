"""Typed builders of the ten event types, on the contract's own models.

Each method checks its event against `progress_sync_client.contract` (the server's contract,
packaged with this client) and raises `ContractViolation` naming the JSON field at fault, so a
bad event fails in the app, not later in the outbox. `eventId` (a time-ordered UUIDv7),
`occurredAt` (now, UTC) and `clientId` are filled in unless given. Every builder takes the
app's own `extensions` (at most 4 KiB as JSON, depth 8), kept by the server, never interpreted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal, cast

from pydantic import TypeAdapter, ValidationError

from .contract import EVENT_TYPES, ProgressEvent, ProgressReset
from .contract.errors import violation_from
from .event_ids import new_event_id

__all__ = ["EventBuilder", "Status"]

Status = Literal["not_started", "in_progress", "completed", "passed"]

_EVENT = TypeAdapter[ProgressEvent](ProgressEvent)

Extensions = dict[str, Any] | None
"""App-defined values carried in the payload's `extensions`."""

_STAND_IN = ["course-items"]
"""Checks a course reset in place of the contentIds only the server's catalog knows."""


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _validated(raw: dict[str, Any]) -> ProgressEvent:
    try:
        return _EVENT.validate_python(raw, by_alias=True, by_name=False)
    except ValidationError as error:
        raise violation_from(error, raw, event_types=EVENT_TYPES) from None


class EventBuilder:
    """Makes events stamped with one `clientId` (the device, app or job that produced them)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def event(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """Build any event from its type name and camelCase payload (plus `extensions`).

        A `progress.reset` may name only a `courseId`: the gateway fills in the course's
        contentIds from its catalog when it accepts the event.

        Raises:
            ContractViolation: Naming the first offending field (e.g. `payload.contentId`).
        """
        if extensions is not None:
            payload = {**payload, "extensions": extensions}
        raw = {
            "eventId": event_id or new_event_id(),
            "occurredAt": occurred_at or datetime.now(UTC),
            "clientId": self.client_id,
            "type": type_,
            "payload": payload,
        }
        if type_ != "progress.reset" or "courseId" not in payload or "contentIds" in payload:
            return _validated(raw)
        checked = cast(
            ProgressReset, _validated({**raw, "payload": {**payload, "contentIds": _STAND_IN}})
        )
        return checked.model_copy(
            update={"payload": checked.payload.model_copy(update={"content_ids": None})}
        )

    def content_progressed(
        self,
        content_id: str,
        status: Status,
        *,
        score: float | None = None,
        content_version: str | None = None,
        course_id: str | None = None,
        interaction_id: str | None = None,
        interaction_state: dict[str, Any] | None = None,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """A step, lesson or workout moved on.

        With `interaction_id`, that interaction's state is set (removed when None).
        """
        payload = _without_none(
            {
                "contentId": content_id,
                "status": status,
                "score": score,
                "contentVersion": content_version,
                "courseId": course_id,
            }
        )
        if interaction_id is not None:
            payload["interaction"] = {"interactionId": interaction_id, "state": interaction_state}
        return self.event(
            "content.progressed",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def media_progressed(
        self,
        content_id: str,
        position_seconds: float,
        *,
        duration_seconds: float | None = None,
        watched_seconds: float | None = None,
        course_id: str | None = None,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """A media position report; `watched_seconds` is newly watched time (summed)."""
        payload = _without_none(
            {
                "contentId": content_id,
                "positionSeconds": position_seconds,
                "durationSeconds": duration_seconds,
                "watchedSeconds": watched_seconds,
                "courseId": course_id,
            }
        )
        return self.event(
            "media.progressed",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def quiz_attempted(
        self,
        content_id: str,
        score: float,
        max_score: float,
        passed: bool,
        *,
        course_id: str | None = None,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """One graded quiz attempt."""
        payload = _without_none(
            {
                "contentId": content_id,
                "score": score,
                "maxScore": max_score,
                "passed": passed,
                "courseId": course_id,
            }
        )
        return self.event(
            "quiz.attempted",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def content_rated(
        self,
        content_id: str,
        rating: str,
        *,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """The user rated an item (a short label such as `easy`)."""
        payload = {"contentId": content_id, "rating": rating}
        return self.event(
            "content.rated",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def content_scheduled(
        self,
        content_id: str,
        scheduled_for: date | None,
        *,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """The user planned an item for a day; None clears the plan."""
        payload = {
            "contentId": content_id,
            "scheduledFor": scheduled_for.isoformat() if scheduled_for else None,
        }
        return self.event(
            "content.scheduled",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def course_completed(
        self,
        course_id: str,
        *,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """The app claims the course is completed (the server judges the certificate)."""
        payload = {"courseId": course_id}
        return self.event(
            "course.completed",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def onboarding_completed(
        self,
        path_id: str,
        *,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """Onboarding finished on a path."""
        payload = {"pathId": path_id}
        return self.event(
            "onboarding.completed",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def onboarding_reset(
        self,
        *,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """Onboarding is to be done again."""
        return self.event(
            "onboarding.reset",
            {},
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def active_path_set(
        self,
        path_id: str | None,
        *,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """The active learning path changed; None clears it."""
        payload = {"pathId": path_id}
        return self.event(
            "activePath.set",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )

    def progress_reset(
        self,
        *,
        course_id: str | None = None,
        content_ids: list[str] | None = None,
        extensions: Extensions = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """Progress is cleared as of this event; the history stays in the log.

        Without a scope, all of it; with `content_ids`, only those items; with `course_id`,
        the course's items as the server's catalog lists them (the gateway fills them in)
        and its completion claim. `event_id` is the reset's idempotency key: pass one you
        keep, so that tracking the reset again never wipes progress made in between.
        """
        payload = _without_none({"courseId": course_id, "contentIds": content_ids})
        return self.event(
            "progress.reset",
            payload,
            extensions=extensions,
            occurred_at=occurred_at,
            event_id=event_id,
        )
