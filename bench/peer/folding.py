"""The peer's per-message step: one event folded onto its user's snapshot held in Quix state.

Pure of Quix itself (the state is anything with `get` and `set`, as Quix's `State` has), so
it runs in the dev venv's unit tests and in the peer's venv alike. The rules are the
domain's (`shared.domain.apply` and `reduce`), not rewritten: the same events give the same
snapshot as the projector's.

State per user (Quix keys state by the message key, `tenantId/userId`):
- `event:<eventId>`: the event as published, for dedup (first stored wins, as `dedupe`
  says) and for a replay;
- `ids`: the user's eventIds in arrival order (the replay reads them back);
- `snapshot`: the snapshot's storage text (`Snapshot.to_storage`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from shared.adapters.mongo import user_key
from shared.domain import LateEvent, RecordedEvent, Snapshot, apply, reduce, usage_of

__all__ = ["KeyState", "fold_message"]


class KeyState(Protocol):
    """The part of Quix's per-key `State` the fold uses."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


def _replayed(state: KeyState, ids: list[str], event: RecordedEvent) -> Snapshot:
    """The user's snapshot reduced from every event held in state (a late event came)."""
    log = [RecordedEvent.from_json(state.get(f"event:{event_id}")) for event_id in ids]
    return reduce(log, tenant_id=event.tenant_id, user_id=event.user_id)


def fold_message(value: bytes, state: KeyState) -> dict[str, Any] | None:
    """The snapshot document to write after the event `value`, or None for a repeat.

    The document has the fields the projector's `MongoSnapshotStore` writes (`_id`, `t`,
    `u`, `s` = distinct events applied, `v`, `state`, `q`, `writtenAt`), so the peer's
    collection reads like the projector's. An event that sorts before the snapshot's last
    one (or retracts others) is not folded on top: the user's events are reduced again.
    """
    event = RecordedEvent.from_json(value)
    seen = f"event:{event.event.event_id}"
    if state.get(seen) is not None:
        return None
    state.set(seen, value.decode())
    ids: list[str] = [*state.get("ids", []), event.event.event_id]
    state.set("ids", ids)
    stored = state.get("snapshot")
    before = (
        Snapshot.from_storage(stored)
        if stored is not None
        else Snapshot.empty(event.tenant_id, event.user_id)
    )
    try:
        snapshot = apply(before, [event])
    except LateEvent:
        snapshot = _replayed(state, ids, event)
    text = snapshot.to_storage()
    state.set("snapshot", text)
    usage = usage_of(snapshot, len(text))
    return {
        "_id": user_key(event.tenant_id, event.user_id),
        "t": event.tenant_id,
        "u": event.user_id,
        "s": len(ids),
        "v": len(ids),
        "state": text,
        "q": [usage.items, usage.max_interactions, usage.bytes],
        "writtenAt": datetime.now(UTC),
    }
