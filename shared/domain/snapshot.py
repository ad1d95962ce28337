"""A user's progress as the reducer derives it from their event log.

`Snapshot.to_api` is the JSON the API serves; `to_storage` / `from_storage` round-trip it with
the reducer's bookkeeping, as one string, so that app IDs (`$where`, `a.b`) are only ever
values, never MongoDB field names.

Snapshots are values: the reducer never changes a snapshot it returned, and a snapshot it
returns may share unchanged parts with its input, so do not mutate one you did not build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from pydantic.alias_generators import to_camel

from .values import Omittable, Status

__all__ = [
    "CourseProgress",
    "ItemProgress",
    "MediaProgress",
    "Onboarding",
    "QuizProgress",
    "Snapshot",
    "Streak",
]


Number = int | float
"""A JSON number as the events gave it; unbounded, since sums may pass any per-event bound."""

_CAMEL = ConfigDict(
    extra="forbid",
    alias_generator=to_camel,
    validate_by_alias=True,
    validate_by_name=True,
    serialize_by_alias=True,
)

# The parts are plain dataclasses rather than models: the fold builds and changes them
# thousands of times per replay, and a plain dataclass is not validated on each of those.
# Pydantic validates them (by `_CAMEL`) when a snapshot is read back from storage.


class _Part:
    """What every part of a snapshot shares with the snapshot itself: `model_dump`.

    An app that takes one item out of a snapshot (`snapshot.items["lesson-1"]`) can dump it
    as it dumps the whole snapshot, with the same options and the same camelCase keys.
    """

    __slots__ = ()

    def model_dump(self, **options: Any) -> Any:
        """This part as plain Python (or JSON-ready with `mode="json"`), as pydantic dumps."""
        return TypeAdapter(type(self)).dump_python(self, **options)


@with_config(_CAMEL)
@dataclass(slots=True)
class MediaProgress(_Part):
    """Playback of one media item."""

    last_position: Number
    """Position of the latest report by occurredAt."""
    max_position: Number
    """Furthest position ever reported."""
    duration: Omittable[Number] = None
    """Duration of the latest report that gave one."""
    watched_seconds: Number = 0
    """Sum of all reports' watchedSeconds."""
    last_reported_at: Omittable[datetime] = None
    """occurredAt of the latest report (when the item was last watched); stored, not in
    `Snapshot.to_api`."""


@with_config(_CAMEL)
@dataclass(slots=True)
class QuizProgress(_Part):
    """Graded attempts at one quiz."""

    attempts: int
    best_score: Number
    last_score: Number
    max_score: Number
    """maxScore of the latest attempt."""


@with_config(_CAMEL)
@dataclass(slots=True)
class ItemProgress(_Part):
    """Progress on one content item (step, lesson, chapter, quiz, workout, video)."""

    status: Status = "not_started"
    score: Omittable[Number] = None
    """Highest score of any content.progressed event."""
    content_version: Omittable[str] = None
    course_id: Omittable[str] = None
    completed_at: Omittable[datetime] = None
    """When the status first became completed or passed."""
    passed_at: Omittable[datetime] = None
    """When the status first became passed (a quiz passed, not merely completed); stored,
    not in `Snapshot.to_api`."""
    last_attempt_at: Omittable[datetime] = None
    """occurredAt of the latest content.progressed or quiz.attempted event."""
    first_activity_at: Omittable[datetime] = None
    """occurredAt of the first event naming the item; stored, not in `Snapshot.to_api`."""
    last_activity_at: Omittable[datetime] = None
    """occurredAt of the latest event naming the item; stored, not in `Snapshot.to_api`."""
    interactions: Omittable[dict[str, dict[str, Any]]] = None
    """State per interactionId; absent when no interaction has state."""
    media: Omittable[MediaProgress] = None
    quiz: Omittable[QuizProgress] = None
    rating: Omittable[str] = None
    scheduled_for: Omittable[date] = None
    extensions: Omittable[dict[str, Any]] = None
    """App-defined values of the item's events, latest (in fold order) per key."""


@with_config(_CAMEL)
@dataclass(frozen=True, slots=True)
class CourseProgress(_Part):
    """A course the user claimed to have completed (a course.completed event)."""

    completed_at: datetime
    """occurredAt of the first course.completed event."""
    last_claimed_at: Omittable[datetime] = None
    """occurredAt of the latest course.completed event, once there was more than one; stored,
    not in `Snapshot.to_api`."""


@with_config(_CAMEL)
@dataclass(frozen=True, slots=True)
class Onboarding(_Part):
    """Onboarding state, as set by the latest onboarding event."""

    completed: bool
    path_id: Omittable[str] = None
    completed_at: Omittable[datetime] = None


@with_config(_CAMEL)
@dataclass(frozen=True, slots=True)
class Streak(_Part):
    """Consecutive UTC days on which some item became completed or passed."""

    current: int
    """Length of the run of days that ends at lastActiveDate."""
    longest: int
    last_active_date: date


_NOT_IN_API: dict[str, Any] = {
    "last_event_id": True,
    "retracted": True,
    "items": {
        "__all__": {
            "passed_at": True,
            "first_activity_at": True,
            "last_activity_at": True,
            "media": {"last_reported_at"},
        }
    },
    "courses": {"__all__": {"last_claimed_at"}},
}
"""Bookkeeping `to_api` leaves out: what the reducer and the course views need, not DESIGN's
snapshot shape (`course_views` shows passedAt, last watch and claims per catalog course;
the course insights read each item's first and last activity)."""


class Snapshot(BaseModel):
    """Everything known about one user's progress, folded from their events in sort order.

    Besides what the API shows it records the sort key of the last event applied
    (`lastUpdated`, `lastEventId`), which `reducer.apply` needs to fold further events
    incrementally. Two snapshots built from the same events are equal (`==`).
    """

    model_config = _CAMEL

    tenant_id: str
    user_id: str
    items: dict[str, ItemProgress] = Field(default_factory=dict)
    courses: dict[str, CourseProgress] = Field(default_factory=dict)
    onboarding: Omittable[Onboarding] = None
    active_path_id: Omittable[str] = None
    streak: Omittable[Streak] = None
    last_updated: Omittable[datetime] = None
    """Largest occurredAt of any event, which is the last one applied."""
    event_count: int = 0
    """Distinct events applied, resets included."""
    last_event_id: Omittable[str] = None
    """Bookkeeping: eventId of the last event applied, not shown by the API."""
    extensions: Omittable[dict[str, Any]] = None
    """App-defined values of events without an item, latest (in fold order) per key."""
    retracted: Omittable[list[str]] = None
    """Bookkeeping: eventIds withdrawn by `events.retracted`, not shown by the API."""

    @classmethod
    def empty(cls, tenant_id: str, user_id: str) -> Snapshot:
        """The snapshot of a user without events."""
        return cls(tenant_id=tenant_id, user_id=user_id)

    @property
    def last_key(self) -> tuple[datetime, str] | None:
        """Sort key (occurredAt, eventId) of the last event applied; None if none was."""
        if self.last_updated is None or self.last_event_id is None:
            return None
        return self.last_updated, self.last_event_id

    def to_api(self) -> dict[str, Any]:
        """The snapshot as the API returns it.

        camelCase keys, UTC times ending in `Z`, days as YYYY-MM-DD; parts that no event has
        set are left out, and so is the bookkeeping.
        """
        return self.model_dump(mode="json", exclude=_NOT_IN_API)

    def to_storage(self) -> str:
        """Compact JSON of the whole snapshot, bookkeeping included (see `from_storage`)."""
        return self.model_dump_json()

    @classmethod
    def from_storage(cls, data: str | bytes) -> Snapshot:
        """Rebuild the snapshot `to_storage` wrote; `from_storage(s.to_storage()) == s`.

        `data` may be that text or its UTF-8 bytes (as the projector's cache keeps it).

        Raises:
            pydantic.ValidationError: If `data` is not a stored snapshot.
        """
        return cls.model_validate_json(data)
