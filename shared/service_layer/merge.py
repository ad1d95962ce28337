"""Guest merge: an anonymous learner signs in, and their progress moves to the account.

The guest's events are sent again under the account, each under its own eventId: a merge is
idempotent, and an event that reached both users counts once. The account's snapshot then
is the reduction of both logs. The guest keeps its history but is reset (so it reads empty)
and points to the account; later writes to the guest stay there until a second merge moves
them too. Nothing is lost to a concurrent write: what the guest receives meanwhile stays
under the guest for the next merge.

A merge is paged: one call moves at most `limit` of the guest's events (in log order, never
reading more of the log than that) and says how many remain; calling again continues where
the last call stopped (the position is kept per guest and account), and the guest is reset
and pointed at the account once nothing remains.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from shared.domain import RecordedEvent, new_reset_event
from shared.service_layer.cost import Charge
from shared.service_layer.ports import EventLog, EventPublisher, MergePointers, SnapshotStore
from shared.service_layer.user_keys import UserKey

__all__ = ["MERGE_CLIENT", "GuestMerge", "MergeRefused", "MergeResult"]

MERGE_CLIENT = "progress-sync-merge"
"""The clientId of the reset a merge leaves on the guest; such resets are never moved."""

log = structlog.stdlib.get_logger(__name__)


class MergeRefused(ValueError):
    """A merge that cannot be done: a guest merged into itself."""


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What one merge call did: the events it sent to the account, and how many remain.

    `reset` is the guest's reset, sent by the call that finished the merge (else None).
    """

    moved: list[RecordedEvent]
    remaining: int
    reset: RecordedEvent | None


class GuestMerge:
    """Moves a guest's events to an account and leaves the guest reset and pointing there."""

    def __init__(
        self,
        events: EventLog,
        snapshots: SnapshotStore,
        publisher: EventPublisher,
        pointers: MergePointers,
    ) -> None:
        self._events = events
        self._snapshots = snapshots
        self._publisher = publisher
        self._pointers = pointers

    async def merge(
        self,
        tenant_id: str,
        account_id: str,
        guest_id: str,
        *,
        limit: int,
        charge: Charge,
        now: datetime,
        request_id: str,
    ) -> MergeResult:
        """Move the guest's next `limit` events to the account; safe to repeat.

        Reads one page of the guest's log (what its snapshot reflects) after the position the
        last call for this account reached, charges the account for the events it moves,
        sends them, and only then records the new position. When nothing remains the guest is
        reset and points to the account.

        Raises:
            MergeRefused: The guest is the account.
            BrokerUnavailable: The broker did not acknowledge; repeat the merge.
            Whatever `charge` raises, before anything is sent.
        """
        if guest_id == account_id:
            raise MergeRefused("a user cannot be merged into itself")
        guest: UserKey = (tenant_id, guest_id)
        stored = (await self._snapshots.positions([guest])).get(guest, 0)
        head = await self._events.visible_head(guest, stored)  # never move past an empty seq
        through = await self._pointers.moved_through(tenant_id, guest_id, account_id)
        entries = await self._events.page(guest, through, head, limit)
        moved = [
            RecordedEvent(
                tenant_id=tenant_id, user_id=account_id, received_at=now, event=e.event.event
            )
            for e in entries
            if e.event.event.client_id != MERGE_CLIENT
        ]
        charge({account_id: len(moved)}, len(moved))
        if moved:
            await self._publisher.publish(moved, request_id)
        if entries:
            through = entries[-1].seq
            await self._pointers.advance(tenant_id, guest_id, account_id, through)
        remaining = await self._events.count(guest, through, head)
        log.info("guest_merge_paged", tenant=tenant_id, moved=len(moved), remaining=remaining)
        if remaining:
            return MergeResult(moved, remaining, None)
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
        return MergeResult(moved, 0, reset)

    async def merged_into(self, tenant_id: str, guest_id: str) -> str | None:
        """The account a guest was merged into, or None."""
        return await self._pointers.target(tenant_id, guest_id)
