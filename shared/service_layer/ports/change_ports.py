"""The change announcements, seen by the snapshot writers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.service_layer.changes import SnapshotChange

__all__ = ["ChangeAnnouncer"]


class ChangeAnnouncer(Protocol):
    """Announces committed snapshot changes to whoever follows them."""

    async def announce(self, changes: Sequence[SnapshotChange]) -> None:
        """Return once the broker acknowledged every announcement; else `BrokerUnavailable`.

        Announcing again is harmless: a follower reads the current state either way.
        """
        ...
