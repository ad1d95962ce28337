"""Per-user quotas: how much one user's snapshot may hold, and which events would pass it.

A quota bounds what one user can cost everyone else: the items in their snapshot, the
interactions per item, and the snapshot's encoded size (MongoDB refuses documents over
16 MiB; the defaults stay well below). An event that would take a snapshot past a quota is
refused before it is stored, by the gateway where it can see it and by the projector,
which has the last word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from .events import ContentProgressed
from .fold import Fold
from .recorded import RecordedEvent
from .snapshot import Snapshot

__all__ = ["OverQuota", "QuotaUsage", "Quotas", "admit", "usage_of"]

_BYTES_HEADROOM = 2 * 1024 * 1024
"""More than one request (1 MiB of body) can add to a snapshot: far from the size quota."""

_by_sort_key = attrgetter("occurred_at", "event_id")


@dataclass(frozen=True, slots=True)
class Quotas:
    """The limits of one user's snapshot."""

    max_items: int = 10_000
    """Items (contentIds) in the snapshot."""
    max_interactions: int = 100
    """Interaction states per item."""
    max_snapshot_bytes: int = 4 * 1024 * 1024
    """The snapshot's encoded size (compact JSON, bookkeeping included)."""


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """How much of the quotas a stored snapshot uses."""

    items: int
    max_interactions: int
    """The most interaction states any one item holds."""
    bytes: int

    def far_from(self, quotas: Quotas, events: int) -> bool:
        """True when `events` more events cannot reach any quota (no need to look closer)."""
        return (
            self.items + events <= quotas.max_items
            and self.max_interactions + events <= quotas.max_interactions
            and self.bytes + _BYTES_HEADROOM <= quotas.max_snapshot_bytes
        )


def usage_of(snapshot: Snapshot, size: int) -> QuotaUsage:
    """A snapshot's use of the quotas, its encoded size being `size`."""
    deepest = max((len(item.interactions or ()) for item in snapshot.items.values()), default=0)
    return QuotaUsage(len(snapshot.items), deepest, size)


@dataclass(frozen=True, slots=True)
class OverQuota:
    """An event refused because it would take the user's snapshot past a quota."""

    event: RecordedEvent
    quota: str
    """`items`, `interactions` or `snapshot_bytes`."""
    field: str
    """The event's field that asked for more (`payload.contentId`, ...)."""
    message: str


def admit(
    snapshot: Snapshot,
    events: Sequence[RecordedEvent],
    quotas: Quotas,
    stored_bytes: int | None = None,
) -> tuple[list[RecordedEvent], list[OverQuota]]:
    """Split `events` into those that fit the quotas on top of `snapshot`, and those that don't.

    Events are tried in sort order, each on the snapshot with the admitted ones applied; a
    refused event changes nothing. `stored_bytes` is the snapshot's encoded size if the
    caller knows it; the size is otherwise computed only when an estimate comes near the
    bound. Pure; the input snapshot is not changed.
    """
    fold = Fold(
        snapshot.model_copy(
            update={"items": dict(snapshot.items), "courses": dict(snapshot.courses)}
        )
    )
    size = stored_bytes if stored_bytes is not None else len(snapshot.to_storage().encode())
    if usage_of(snapshot, size).far_from(quotas, len(events)):
        return list(events), []
    admitted: list[RecordedEvent] = []
    refused: list[OverQuota] = []
    for recorded in sorted(events, key=_by_sort_key):
        problem = _problem(fold.finish(), recorded, quotas)
        added = len(recorded.to_json())
        if problem is None and size + added > quotas.max_snapshot_bytes:
            size = len(fold.finish().to_storage().encode())
            if size + added > quotas.max_snapshot_bytes:
                problem = OverQuota(
                    recorded,
                    "snapshot_bytes",
                    "payload",
                    f"the user's progress would exceed {quotas.max_snapshot_bytes} bytes",
                )
        if problem is not None:
            refused.append(problem)
            continue
        fold.apply(recorded.event)
        size += added
        admitted.append(recorded)
    return admitted, refused


def _problem(current: Snapshot, recorded: RecordedEvent, quotas: Quotas) -> OverQuota | None:
    """The quota this event would pass on top of `current`, if any (size aside)."""
    content_id = getattr(recorded.event.payload, "content_id", None)
    if not isinstance(content_id, str):
        return None
    item = current.items.get(content_id)
    if item is None:
        if len(current.items) >= quotas.max_items:
            return OverQuota(
                recorded,
                "items",
                "payload.contentId",
                f"the user already has {quotas.max_items} items, the most allowed",
            )
        return None
    event = recorded.event
    if not isinstance(event, ContentProgressed) or event.payload.interaction is None:
        return None
    interaction = event.payload.interaction
    known = item.interactions or {}
    adds = interaction.state is not None and interaction.interaction_id not in known
    if adds and len(known) >= quotas.max_interactions:
        return OverQuota(
            recorded,
            "interactions",
            "payload.interaction.interactionId",
            f"item {content_id!r} already has {quotas.max_interactions} interactions, "
            "the most allowed",
        )
    return None
