"""The reducer: a user's snapshot as a pure function of the set of their events.

Sort by (occurredAt, eventId), keep one event per eventId, fold (see `fold.Fold` for what
each event type does). However often and in whatever order events arrive, the result is the
same, and `apply(reduce(A), B) == reduce(A + B)` whenever every event of B sorts after A.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from .events import EventsRetracted, ProgressEvent
from .fold import Fold
from .recorded import RecordedEvent
from .snapshot import Snapshot

__all__ = ["Deduped", "LateEvent", "apply", "dedupe", "reduce", "sort_key"]


class LateEvent(Exception):
    """An event sorts at or before the last one a snapshot has applied, or retracts others.

    It cannot be folded on top: replay the user's log with `reduce` instead.

    Attributes:
        event_id: The eventId of the earliest such event.
    """

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(event_id)

    def __str__(self) -> str:
        return f"event {self.event_id!r} sorts at or before the snapshot's last applied event"


@dataclass(frozen=True, slots=True)
class Deduped:
    """Events with one per eventId, and what was dropped.

    Attributes:
        unique: The first occurrence of each eventId, in input order.
        repeats: Later occurrences with the same content (retries, redelivery): harmless.
        conflicts: (kept, dropped) pairs: a later event with the same eventId but different
            content, which the first stored one overrides.
    """

    unique: list[RecordedEvent]
    repeats: int
    conflicts: list[tuple[RecordedEvent, RecordedEvent]]


def sort_key(event: RecordedEvent) -> tuple[datetime, str]:
    """The fold order: (occurredAt, eventId)."""
    return event.event.occurred_at, event.event.event_id


_event_key = attrgetter("occurred_at", "event_id")


def _in_order(events: list[RecordedEvent]) -> list[ProgressEvent]:
    """The events' client parts sorted by `sort_key`."""
    return sorted([event.event for event in events], key=_event_key)


def dedupe(events: Iterable[RecordedEvent]) -> Deduped:
    """Keep the first occurrence of each eventId in input order ("first stored wins").

    Content hashes are only computed for eventIds that occur more than once.
    """
    first: dict[str, RecordedEvent] = {}
    repeats = 0
    conflicts: list[tuple[RecordedEvent, RecordedEvent]] = []
    for event in events:
        event_id = event.event.event_id
        kept = first.get(event_id)
        if kept is None:
            first[event_id] = event
            continue
        if kept.content_hash() == event.content_hash():
            repeats += 1
        else:
            conflicts.append((kept, event))
    return Deduped(list(first.values()), repeats, conflicts)


def reduce(events: Iterable[RecordedEvent], *, tenant_id: str, user_id: str) -> Snapshot:
    """Fold a user's whole log (in storage order) into their snapshot.

    Duplicate eventIds are dropped as `dedupe` says; events an `events.retracted` names are
    withdrawn wherever they sort; the rest are folded in `sort_key` order. No events give
    `Snapshot.empty(tenant_id, user_id)`.
    """
    ordered = _in_order(dedupe(events).unique)
    withdrawn = {
        event_id
        for event in ordered
        if isinstance(event, EventsRetracted)
        for event_id in event.payload.event_ids
    }
    fold = Fold(Snapshot.empty(tenant_id, user_id))
    for event in ordered:
        fold.apply(event, withdrawn=_withdrawn(event, withdrawn))
    return fold.finish()


def _withdrawn(event: ProgressEvent, withdrawn: set[str] | frozenset[str]) -> bool:
    """Whether a retraction withdrew this event (retractions themselves always count)."""
    return event.event_id in withdrawn and not isinstance(event, EventsRetracted)


def apply(snapshot: Snapshot, new_events: Sequence[RecordedEvent]) -> Snapshot:
    """Fold events the snapshot has not seen onto it, as if its whole log were reduced again.

    The caller guarantees that no event of `new_events` was applied before; repeats within
    `new_events` are dropped as `dedupe` says. The input snapshot is not changed: the result
    is a new snapshot that shares the items no new event touched. No new events give the
    input snapshot back.

    Raises:
        LateEvent: If some new event sorts at or before the snapshot's last applied event,
            or withdraws events (a retraction needs the whole log); nothing was applied.
    """
    ordered = _in_order(dedupe(new_events).unique)
    if not ordered:
        return snapshot
    last_key = snapshot.last_key
    if last_key is not None and _event_key(ordered[0]) <= last_key:
        raise LateEvent(ordered[0].event_id)
    retraction = next((e for e in ordered if isinstance(e, EventsRetracted)), None)
    if retraction is not None:
        raise LateEvent(retraction.event_id)
    withdrawn = frozenset(snapshot.retracted or ())
    fold = Fold(
        snapshot.model_copy(
            update={"items": dict(snapshot.items), "courses": dict(snapshot.courses)}
        )
    )
    for event in ordered:
        fold.apply(event, withdrawn=_withdrawn(event, withdrawn))
    return fold.finish()
