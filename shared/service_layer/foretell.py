"""Foretelling a round's snapshot writes while its log insert is in flight.

The projector used to alternate its own work with the database's: insert the log, then
fold and encode the snapshots while the database idled, then write them. The fold and the
encoding of the common case (every event of a user is new to the log) now run while the
database stores the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.domain import RecordedEvent, Snapshot, apply
from shared.service_layer.records import SnapshotUpdate, StoredSnapshot, UserKey

__all__ = ["foretell"]


def foretell(
    pending: dict[UserKey, list[RecordedEvent]],
    stored: dict[UserKey, StoredSnapshot],
    positions: dict[UserKey, int],
    rebuild: set[UserKey],
) -> dict[UserKey, SnapshotUpdate]:
    """Each user's snapshot write as it will be if the log takes all of the user's events.

    Folded and encoded while the log insert is in flight, so the database need not wait
    for this work afterwards. Only a guess: the round uses it for a user only when every
    one of the user's entries was inserted. Users to rebuild, and users whose fold is not
    a plain append (a late event, a fault), are left to the round's own path, which
    decides and reports.
    """
    foretold: dict[UserKey, SnapshotUpdate] = {}
    for key, user_events in pending.items():
        if key in rebuild or not user_events:
            continue
        found = stored.get(key)
        base = found.snapshot if found is not None else Snapshot.empty(*key)
        snapshot = _fold(base, user_events)
        if snapshot is None:
            continue
        before = positions[key]
        update = SnapshotUpdate(
            key,
            snapshot,
            before + len(user_events),
            before,
            found.version if found is not None else 0,
        )
        _ = update.encoded  # encode now, while the database stores the log
        foretold[key] = update
    return foretold


def _fold(base: Snapshot, events: Sequence[RecordedEvent]) -> Snapshot | None:
    """`apply`, or None where it raises: the round's own path meets that again and reports it."""
    try:
        return apply(base, events)
    except Exception:  # a late event or a fault of the user's data; not decided here
        return None
