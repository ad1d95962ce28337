"""Request and response bodies of the HTTP API (v1), as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EventResult", "ProgressPage", "UserWriteRequest", "WriteResponse"]


class UserWriteRequest(BaseModel):
    """`PUT /v1/users/{userId}/progress`: one user's events, each validated on its own."""

    model_config = ConfigDict(extra="forbid")

    clientUpdatedAt: str | None = Field(default=None, max_length=64)
    events: list[dict[str, Any]] = Field(description="Progress events (see the event contract).")


class EventResult(BaseModel):
    """The outcome of one event of a write."""

    eventId: str | None
    status: Literal["accepted", "rejected"]
    error: str | None = None


class WriteResponse(BaseModel):
    """A write's answer (202): how many events were accepted and a result per event, in order."""

    accepted: int
    rejected: int
    results: list[EventResult]


class ProgressPage(BaseModel):
    """A user's snapshot, the events stored after `since`, and the cursor to ask from next."""

    snapshot: dict[str, Any]
    events: list[dict[str, Any]]
    cursor: str
    hasMore: bool
