"""Request and response bodies of the HTTP API (v1), as the OpenAPI document shows them.

Events are taken as plain JSON objects here and validated one by one against the contract
in `shared.domain`, so that one bad event is rejected on its own instead of failing the
whole request; the OpenAPI document still describes each item with the contract's schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import CourseViews

__all__ = [
    "BulkWriteRequest",
    "EventResult",
    "MergeResponse",
    "ProgressPage",
    "UserWriteRequest",
    "WriteResponse",
]


class UserWriteRequest(BaseModel):
    """`PUT /v1/users/{userId}/progress`: one user's events (at most 500)."""

    model_config = ConfigDict(extra="forbid")

    clientUpdatedAt: str | None = Field(
        default=None, max_length=64, description="When the client last changed its copy."
    )
    events: list[Any] = Field(description="Progress events, each as the event contract says.")


class BulkWriteRequest(BaseModel):
    """`POST /v1/events`: events of many users (at most 500), each naming its `userId`."""

    model_config = ConfigDict(extra="forbid")

    events: list[Any] = Field(description="Progress events, each with a `userId` field.")


class EventResult(BaseModel):
    """The outcome of one event of a write, in request order."""

    eventId: str | None
    status: Literal["accepted", "rejected"]
    error: str | None = Field(default=None, description="Why the event was rejected.")
    code: str | None = Field(
        default=None,
        description="Why, for programs: `invalid_event`, `erased`, `quota`, `unknown_course`.",
    )
    field: str | None = Field(
        default=None, description="The offending field's dotted path, e.g. `payload.score`."
    )
    clockAdjusted: bool | None = Field(
        default=None,
        description="true: the device's occurredAt was more than 5 minutes ahead of the "
        "server clock and the event was recorded at its receive time instead.",
    )


class WriteResponse(BaseModel):
    """A write's answer (202): counts and a result per event."""

    accepted: int
    rejected: int
    results: list[EventResult]
    note: str | None = Field(default=None, description="Advice about the request, if any.")
    consistencyToken: str | None = Field(
        default=None,
        description="Pass as `waitFor` to a read to see this write reflected (read-your-writes).",
    )
    consistencyTokens: dict[str, str] | None = Field(
        default=None, description="`POST /v1/events`: a consistency token per userId."
    )


class MergeResponse(WriteResponse):
    """A merge call's answer (202): the events it moved, and how many are still to move."""

    remaining: int = Field(
        description="Events of the guest's log still to move: call the merge again until 0."
    )


class ProgressPage(BaseModel):
    """A user's snapshot, the events stored after `since`, and the cursor to ask from next."""

    snapshot: dict[str, Any] = Field(description="The user's progress snapshot.")
    events: list[dict[str, Any]] = Field(description="Stored events, oldest first.")
    cursor: str = Field(description="Pass as `since` to get only what is stored after this.")
    hasMore: bool = Field(description="More events are stored after `cursor`.")
    courseViews: CourseViews = Field(
        description="Views of the catalog courses the user touched (empty without a catalog)."
    )
    mergedInto: str | None = Field(
        default=None, description="A merged guest: the account its progress moved to."
    )
