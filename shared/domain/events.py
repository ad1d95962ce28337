"""The event contract: the ten event types an app sends, and an event as the server records it.

An event is immutable and identified by its `eventId`: the same eventId sent twice is the same
event. Times are normalised to UTC when validated.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, TypeAdapter, ValidationError

from .errors import ContractViolation, violation_from
from .ids import Id
from .payloads import (
    ActivePathPayload,
    ContentProgressPayload,
    ContentRatingPayload,
    ContentSchedulePayload,
    ContractModel,
    CourseCompletionPayload,
    EmptyPayload,
    MediaProgressPayload,
    OnboardingPayload,
    QuizAttemptPayload,
    ResetPayload,
    RetractionPayload,
)
from .values import Timestamp

__all__ = [
    "EVENT_TYPES",
    "MAX_CLOCK_SKEW",
    "ActivePathSet",
    "ContentProgressed",
    "ContentRated",
    "ContentScheduled",
    "ContractViolation",
    "CourseCompleted",
    "EventsRetracted",
    "MediaProgressed",
    "OnboardingCompleted",
    "OnboardingReset",
    "ProgressEvent",
    "ProgressReset",
    "QuizAttempted",
    "accept_event",
    "clamp_clock",
    "new_reset_event",
    "parse_event",
    "validate_event",
]

MAX_CLOCK_SKEW = timedelta(minutes=5)
"""How far an event's occurredAt may lie ahead of the server clock at ingest."""


class _Envelope(ContractModel):
    event_id: Id
    """Unique per user; sending the same eventId again is a no-op."""
    occurred_at: Timestamp
    """When it happened on the device (RFC 3339 with offset); stored in UTC."""
    client_id: Id
    """The device or app installation that produced the event."""


class ContentProgressed(_Envelope):
    """A step, lesson or workout moved on (status, score, interaction state)."""

    type: Literal["content.progressed"]
    payload: ContentProgressPayload


class MediaProgressed(_Envelope):
    """A media position report."""

    type: Literal["media.progressed"]
    payload: MediaProgressPayload


class QuizAttempted(_Envelope):
    """A graded quiz attempt."""

    type: Literal["quiz.attempted"]
    payload: QuizAttemptPayload


class ContentRated(_Envelope):
    """The user rated an item."""

    type: Literal["content.rated"]
    payload: ContentRatingPayload


class ContentScheduled(_Envelope):
    """The user planned (or unplanned) an item for a day."""

    type: Literal["content.scheduled"]
    payload: ContentSchedulePayload


class CourseCompleted(_Envelope):
    """A course was completed (e.g. a certificate was earned)."""

    type: Literal["course.completed"]
    payload: CourseCompletionPayload


class OnboardingCompleted(_Envelope):
    """Onboarding finished on a path."""

    type: Literal["onboarding.completed"]
    payload: OnboardingPayload


class OnboardingReset(_Envelope):
    """Onboarding is to be done again (e.g. after logout)."""

    type: Literal["onboarding.reset"]
    payload: EmptyPayload = Field(default_factory=EmptyPayload)


class ActivePathSet(_Envelope):
    """The user's active learning path changed (or was cleared)."""

    type: Literal["activePath.set"]
    payload: ActivePathPayload


class ProgressReset(_Envelope):
    """Progress is cleared as of this event (all of it, or the named items); the log stays."""

    type: Literal["progress.reset"]
    payload: ResetPayload = Field(default_factory=ResetPayload)


class EventsRetracted(_Envelope):
    """Earlier events are withdrawn (an xAPI statement was voided): the fold skips them."""

    type: Literal["events.retracted"]
    payload: RetractionPayload


ProgressEvent = Annotated[
    ContentProgressed
    | MediaProgressed
    | QuizAttempted
    | ContentRated
    | ContentScheduled
    | CourseCompleted
    | OnboardingCompleted
    | OnboardingReset
    | ActivePathSet
    | ProgressReset
    | EventsRetracted,
    Field(discriminator="type"),
]
"""Any one event an app sends, told apart by its `type`."""

EVENT_TYPES: tuple[str, ...] = tuple(
    get_args(member.model_fields["type"].annotation)[0]
    for member in get_args(get_args(ProgressEvent)[0])
)
"""The event type names, in contract order."""

_EVENT = TypeAdapter[ProgressEvent](ProgressEvent)


def parse_event(raw: object) -> ProgressEvent:
    """Validate one event by its JSON (camelCase) names, without the clock check."""
    try:
        return _EVENT.validate_python(raw, by_alias=True, by_name=False)
    except ValidationError as error:
        raise violation_from(error, raw, event_types=EVENT_TYPES) from None


def accept_event(raw: object, *, now: datetime) -> tuple[ProgressEvent, datetime | None]:
    """Validate one event as an app sent it, and clamp a clock that runs ahead.

    An occurredAt more than `MAX_CLOCK_SKEW` ahead of `now` (an offline device with a fast
    clock) is replaced by `now`, so the event is kept rather than lost.

    Args:
        raw: The decoded JSON value.
        now: The server clock (timezone-aware), the receive time.

    Returns:
        The typed event (times in UTC), and the occurredAt the device sent if it was clamped
        (else None).

    Raises:
        ContractViolation: Naming the first offending field and, when readable, the eventId.
    """
    return clamp_clock(parse_event(raw), now=now)


def clamp_clock(event: ProgressEvent, *, now: datetime) -> tuple[ProgressEvent, datetime | None]:
    """The event with an occurredAt more than `MAX_CLOCK_SKEW` ahead of `now` set to `now`.

    Returns the event, and the occurredAt it had if that was clamped (else None): the rule
    `accept_event` applies to what an app sends, for events a use case built typed.
    """
    if event.occurred_at - now <= MAX_CLOCK_SKEW:
        return event, None
    return event.model_copy(update={"occurred_at": now}), event.occurred_at


def validate_event(raw: object, *, now: datetime) -> ProgressEvent:
    """Validate one event as an app sent it (see `accept_event`), clock clamped."""
    return accept_event(raw, now=now)[0]


def new_reset_event(
    *,
    event_id: str,
    occurred_at: datetime,
    client_id: str,
    content_ids: list[str] | None = None,
    course_id: str | None = None,
) -> ProgressEvent:
    """Build the `progress.reset` event that `DELETE /progress` appends.

    Without `content_ids` it clears all progress; with them, only those items (and the
    claim on `course_id`, when given).

    Raises:
        ContractViolation: If an ID, the list or the (timezone-aware) time is invalid.
    """
    payload: dict[str, Any] = {}
    if content_ids is not None:
        payload["contentIds"] = content_ids
    if course_id is not None:
        payload["courseId"] = course_id
    raw = {
        "eventId": event_id,
        "occurredAt": occurred_at,
        "clientId": client_id,
        "type": "progress.reset",
        "payload": payload,
    }
    return parse_event(raw)
