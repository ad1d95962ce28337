"""Typed builders of the ten event types, on the contract's own models.

Each method checks its event against `progress_sync_client.contract` (the server's contract,
packaged with this client) and raises `ContractViolation` naming the JSON field at fault, so a
bad event fails in the app, not later in the outbox. `eventId` (a time-ordered UUIDv7),
`occurredAt` (now, UTC) and `clientId` are filled in unless given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from .contract import EVENT_TYPES, ProgressEvent
from .contract.errors import violation_from
from .event_ids import new_event_id

__all__ = ["EventBuilder", "Status"]

Status = Literal["not_started", "in_progress", "completed", "passed"]

_EVENT = TypeAdapter[ProgressEvent](ProgressEvent)


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class EventBuilder:
    """Makes events stamped with one `clientId` (the device, app or job that produced them)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def event(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """Build any event from its type name and camelCase payload.

        Raises:
            ContractViolation: Naming the first offending field (e.g. `payload.contentId`).
        """
        raw = {
            "eventId": event_id or new_event_id(),
            "occurredAt": occurred_at or datetime.now(UTC),
            "clientId": self.client_id,
            "type": type_,
            "payload": payload,
        }
        try:
            return _EVENT.validate_python(raw, by_alias=True, by_name=False)
        except ValidationError as error:
            raise violation_from(error, raw, event_types=EVENT_TYPES) from None

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
        return self.event("content.progressed", payload, occurred_at=occurred_at, event_id=event_id)

    def media_progressed(
        self,
        content_id: str,
        position_seconds: float,
        *,
        duration_seconds: float | None = None,
        watched_seconds: float | None = None,
        course_id: str | None = None,
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
        return self.event("media.progressed", payload, occurred_at=occurred_at, event_id=event_id)

    def quiz_attempted(
        self,
        content_id: str,
        score: float,
        max_score: float,
        passed: bool,
        *,
        course_id: str | None = None,
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
        return self.event("quiz.attempted", payload, occurred_at=occurred_at, event_id=event_id)

    def content_rated(
        self,
        content_id: str,
        rating: str,
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """The user rated an item (a short label such as `easy`)."""
        payload = {"contentId": content_id, "rating": rating}
        return self.event("content.rated", payload, occurred_at=occurred_at, event_id=event_id)

    def content_scheduled(
        self,
        content_id: str,
        scheduled_for: date | None,
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """The user planned an item for a day; None clears the plan."""
        payload = {
            "contentId": content_id,
            "scheduledFor": scheduled_for.isoformat() if scheduled_for else None,
        }
        return self.event("content.scheduled", payload, occurred_at=occurred_at, event_id=event_id)

    def course_completed(
        self, course_id: str, *, occurred_at: datetime | None = None, event_id: str | None = None
    ) -> ProgressEvent:
        """The app claims the course is completed (the server judges the certificate)."""
        payload = {"courseId": course_id}
        return self.event("course.completed", payload, occurred_at=occurred_at, event_id=event_id)

    def onboarding_completed(
        self, path_id: str, *, occurred_at: datetime | None = None, event_id: str | None = None
    ) -> ProgressEvent:
        """Onboarding finished on a path."""
        payload = {"pathId": path_id}
        return self.event(
            "onboarding.completed", payload, occurred_at=occurred_at, event_id=event_id
        )

    def onboarding_reset(
        self, *, occurred_at: datetime | None = None, event_id: str | None = None
    ) -> ProgressEvent:
        """Onboarding is to be done again."""
        return self.event("onboarding.reset", {}, occurred_at=occurred_at, event_id=event_id)

    def active_path_set(
        self,
        path_id: str | None,
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> ProgressEvent:
        """The active learning path changed; None clears it."""
        payload = {"pathId": path_id}
        return self.event("activePath.set", payload, occurred_at=occurred_at, event_id=event_id)

    def progress_reset(
        self, *, occurred_at: datetime | None = None, event_id: str | None = None
    ) -> ProgressEvent:
        """All progress is cleared as of this event; the history stays in the log."""
        return self.event("progress.reset", {}, occurred_at=occurred_at, event_id=event_id)
