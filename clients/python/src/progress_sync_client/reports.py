"""What the client tells the app: events it gave up on, its sync status, one event's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = [
    "DropReason",
    "DroppedEvent",
    "EventState",
    "FlushReport",
    "OnDropped",
    "OnStatus",
    "SyncStatus",
]

DropReason = Literal["rejected", "erased", "too_large"]


@dataclass(frozen=True, slots=True)
class DroppedEvent:
    """An event that left the outbox without being stored, and why; never silent.

    `reason` is `rejected` (the server refused this event for good: its `code`, `field` and
    `error` say why), `erased` (410: the user was erased) or `too_large` (one event alone is
    over the server's body limit).
    """

    user_id: str
    event_id: str
    reason: DropReason
    error: str | None = None
    code: str | None = None
    field: str | None = None


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """The flusher's state, pushed to `on_status` on every change.

    `pending` with `retry_in_ms > 0` means events wait for a retry (server away or busy;
    `retry_count` failures in a row so far); `error` means the server refused a request in a
    way resending will not fix (e.g. 403): the events stay queued and the flusher waits for
    `resume()`.
    """

    state: Literal["idle", "sending", "pending", "error"]
    retry_in_ms: int = 0
    error: str | None = None
    sent: int = 0
    """Events the server answered for since the client started."""
    dropped: int = 0
    last_synced_at: datetime | None = None
    retry_count: int = 0
    """Failed sends in a row (0 after a success): what a sync indicator shows as attempts."""


@dataclass(frozen=True, slots=True)
class EventState:
    """Where one tracked event is (Firebase's `hasPendingWrites`, per event).

    `pending`: queued; `sending`: a request with it is out (this or another process);
    `synced`: the server stored it; `rejected`: it left the queue unstored, and `reason`
    (with the server's `code`, `field` and `error` for `rejected`) says why, as in
    `DroppedEvent`.
    """

    state: Literal["pending", "sending", "synced", "rejected"]
    reason: DropReason | None = None
    error: str | None = None
    code: str | None = None
    field: str | None = None


@dataclass(frozen=True, slots=True)
class FlushReport:
    """How a flush ended.

    `drained` is True if nothing this client could send was left; `queued`
    counts the events still in the outbox file (of every process sharing it).
    """

    drained: bool
    queued: int
    status: SyncStatus


OnDropped = Callable[[DroppedEvent], None]
OnStatus = Callable[[SyncStatus], None]
