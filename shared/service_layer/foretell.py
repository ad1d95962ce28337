"""Foretelling a round's snapshot writes while its log insert is in flight.

The projector used to alternate its own work with the database's: insert the log, then
fold and encode the snapshots while the database idled, then write them. The fold and the
encoding of the common case (every event of a user is new to the log) now run while the
database stores the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.domain import RecordedEvent, Snapshot, apply
from shared.service_layer.stored_snapshots import SnapshotUpdate
from shared.service_layer.user_round import UserRound

__all__ = ["foretell"]


def foretell(users: Iterable[UserRound]) -> None:
    """Set each user's `foretold` write: as it will be if the log takes all of its events.

    Folded and encoded while the log insert is in flight, so the database need not wait
    for this work afterwards. Only a guess: the round uses it for a user only when every
    one of the user's entries was inserted (`UserRound.ready`). Users to rebuild, and users
    whose fold is not a plain append (a late event, a fault), are left to the round's own
    path, which decides and reports.
    """
    for user in users:
        if user.rebuild or not user.events:
            continue
        snapshot = _fold(user.base, user.events)
        if snapshot is None:
            continue
        top = user.position + len(user.events)
        update = SnapshotUpdate(user.key, snapshot, top, user.position, user.version)
        _ = update.encoded  # encode now, while the database stores the log
        user.foretold = update


def _fold(base: Snapshot, events: Sequence[RecordedEvent]) -> Snapshot | None:
    """`apply`, or None where it raises: the round's own path meets that again and reports it."""
    try:
        return apply(base, events)
    except Exception:  # a late event or a fault of the user's data; not decided here
        return None
