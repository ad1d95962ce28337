"""Guest merge: an anonymous learner signs in, and their progress moves to the account.

The guest's events are sent again under the account, each under its own eventId: a merge is
idempotent, and an event that reached both users counts once. The account's snapshot then
is the reduction of both logs. The guest keeps its history but is reset (so it reads empty)
and points to the account; later writes to the guest stay there until a second merge moves
them too. Nothing is lost to a concurrent write: what the guest receives meanwhile stays
under the guest for the next merge.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from shared.domain import RecordedEvent, new_reset_event
from shared.domain.wire import MAX_EVENTS_PER_REQUEST
from shared.service_layer.ports import EventLog, EventPublisher, MergePointers
from shared.service_layer.records import UserKey

__all__ = ["MAX_MERGED_EVENTS", "MERGE_CLIENT", "GuestMerge", "MergeRefused", "MergeResult"]

MAX_MERGED_EVENTS = 50_000
"""Most events one merge moves; a guest with more is refused (merge it by import instead)."""

MERGE_CLIENT = "progress-sync-merge"
"""The clientId of the reset a merge leaves on the guest; such resets are never moved."""

log = structlog.stdlib.get_logger(__name__)


class MergeRefused(ValueError):
    """A merge that cannot be done: a guest merged into itself, or one too large."""


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What a merge did: the events it sent to the account, and the guest's reset."""

    moved: list[RecordedEvent]
    reset: RecordedEvent


class GuestMerge:
    """Moves a guest's events to an account and leaves the guest reset and pointing there."""

    def __init__(
        self, events: EventLog, publisher: EventPublisher, pointers: MergePointers
    ) -> None:
        self._events = events
        self._publisher = publisher
        self._pointers = pointers

    async def merge(
        self, tenant_id: str, account_id: str, guest_id: str, *, now: datetime, request_id: str
    ) -> MergeResult:
        """Merge the guest into the account; safe to repeat.

        Raises:
            MergeRefused: The guest is the account, or has too many events.
            BrokerUnavailable: The broker did not acknowledge; repeat the merge.
        """
        if guest_id == account_id:
            raise MergeRefused("a user cannot be merged into itself")
        guest: UserKey = (tenant_id, guest_id)
        entries = (await self._events.after({guest: 0})).get(guest, [])
        if len(entries) > MAX_MERGED_EVENTS:
            raise MergeRefused(f"the guest has over {MAX_MERGED_EVENTS} events")
        moved = [
            RecordedEvent(
                tenant_id=tenant_id, user_id=account_id, received_at=now, event=e.event.event
            )
            for e in entries
            if e.event.event.client_id != MERGE_CLIENT
        ]
        for first in range(0, len(moved), MAX_EVENTS_PER_REQUEST):
            await self._publisher.publish(moved[first : first + MAX_EVENTS_PER_REQUEST], request_id)
        await self._pointers.point(tenant_id, guest_id, account_id)
        reset = RecordedEvent(
            tenant_id=tenant_id,
            user_id=guest_id,
            received_at=now,
            event=new_reset_event(
                event_id=f"merged-{uuid.uuid4()}", occurred_at=now, client_id=MERGE_CLIENT
            ),
        )
        await self._publisher.publish([reset], request_id)
        log.info("guest_merged", tenant=tenant_id, moved=len(moved))
        return MergeResult(moved, reset)

    async def merged_into(self, tenant_id: str, guest_id: str) -> str | None:
        """The account a guest was merged into, or None."""
        return await self._pointers.target(tenant_id, guest_id)
