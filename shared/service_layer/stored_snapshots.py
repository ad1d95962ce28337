"""Snapshots as the snapshot store keeps them: what was read and a conditional write."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from shared.domain import Snapshot
from shared.service_layer.user_keys import UserKey

__all__ = ["SnapshotUpdate", "StoredSnapshot"]


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot and the highest log `seq` it has applied (every lower entry is applied).

    `unreadable` says why a stored snapshot could not be read back (its `snapshot` is then
    empty): the projection and `rebuild` recompute it from the log; a read reports it.
    """

    snapshot: Snapshot
    seq: int
    unreadable: str | None = None
    size: int | None = None
    """The stored encoding's length, when the store knows it (for the size quota)."""
    version: int = 0
    """How many times the stored snapshot was written: a write names the one it replaces."""


@dataclass(frozen=True)
class SnapshotUpdate:
    """Write `snapshot` at `seq`, but only if the stored one is still the one read.

    That is: still at `expected_seq` and `expected_version` (0 and 0: no snapshot yet). The
    version tells apart two writes at one seq (a rebuild, a projector), so a writer holding
    an older copy can never write over a newer one.
    """

    key: UserKey
    snapshot: Snapshot
    seq: int
    expected_seq: int
    expected_version: int = 0

    @cached_property
    def encoded(self) -> str:
        """The snapshot as stored (computed once, whoever asks first)."""
        return self.snapshot.to_storage()
