"""What the server answers, as typed models: write results and a user's progress.

The snapshot, recorded events and course views are the contract's own models
(`progress_sync_client.contract`); the envelopes around them ignore fields this client does
not know yet, so a newer server does not break an older client.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from .contract import CourseView, CourseViews, RecordedEvent, Snapshot

__all__ = [
    "Change",
    "CourseView",
    "CourseViews",
    "EventResult",
    "Progress",
    "ProgressPage",
    "WriteResult",
]


class _Answer(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, alias_generator=to_camel, validate_by_name=True
    )


class EventResult(_Answer):
    """The outcome of one event of a write."""

    event_id: str | None
    status: Literal["accepted", "rejected"]
    error: str | None = None
    code: str | None = None
    """Why it was rejected, as a stable code (e.g. `quota`), when the server gives one."""
    field: str | None = None
    """The field at fault, when the server names one."""
    clock_adjusted: bool = False
    """occurredAt lay too far ahead of the server clock and was set to the receive time."""


class WriteResult(_Answer):
    """A write's 202: counts, a result per event in request order, and the consistency token."""

    accepted: int
    rejected: int
    results: list[EventResult]
    consistency_token: str | None = None
    """Pass as `wait_for` to read this write back (read-your-writes)."""
    remaining: int = 0
    """A merge: the guest's events still to move (the SDK calls again until none are)."""

    def followed_by(self, later: WriteResult) -> WriteResult:
        """This write's results and a later call's together (a merge in several calls)."""
        return WriteResult(
            accepted=self.accepted + later.accepted,
            rejected=self.rejected + later.rejected,
            results=[*self.results, *later.results],
            consistency_token=later.consistency_token or self.consistency_token,
            remaining=later.remaining,
        )


class _Events(_Answer):
    """Stored events as the server serves them (a page, or a live stream's message)."""

    events: list[RecordedEvent] = Field(default_factory=list)
    cursor: str

    @field_validator("events", mode="before")
    @classmethod
    def _recorded(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [
                item
                if isinstance(item, RecordedEvent)
                else RecordedEvent.from_json(json.dumps(item))
                for item in value
            ]
        return value


class ProgressPage(_Events):
    """One page of `GET /v1/users/{userId}/progress`."""

    snapshot: Snapshot
    has_more: bool
    course_views: CourseViews | None = None
    merged_into: str | None = None
    """Set when this user was a guest merged into that account."""


class Change(_Events):
    """One message of a user's live stream (`AsyncProgressClient.changes`).

    `events` were stored after the previous message's cursor, oldest first, each once;
    `cursor` is where the stream resumes from (the message's id).
    """


class Progress(BaseModel):
    """A user's snapshot and course views, with every event after the cursor asked from.

    `consistent` is the server's `Progress-Consistent` answer to `wait_for`: True once the
    awaited write is reflected, False if the wait bound passed first, None if not asked or
    the server does not support it.
    """

    model_config = ConfigDict(frozen=True)

    snapshot: Snapshot
    events: list[RecordedEvent]
    cursor: str
    course_views: CourseViews | None
    consistent: bool | None
    merged_into: str | None = None
