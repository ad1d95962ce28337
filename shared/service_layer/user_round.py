"""One user's share of a projection round: what each phase learns about the user, in one place.

A round runs in phases over every user of a batch at once (see `Projection._round`):

- load: the `stored` snapshot, whose seq is where the user's `events` go, and whether the
  snapshot must be rebuilt from the log;
- append: `foretold`, the snapshot write as it will be if the log takes every event (folded
  while the insert is in flight);
- reconcile: the log `entries` to apply (what this writer inserted, or, when the log holds
  entries it did not put there, everything above the stored seq: `unseen`), and `top`, the
  seq the snapshot will reach;
- advance: the new `snapshot`, or why the user `broken`;
- save: the `update` to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain import RecordedEvent, Snapshot
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.stored_snapshots import SnapshotUpdate, StoredSnapshot
from shared.service_layer.user_keys import UserKey

__all__ = ["UserRound"]


@dataclass(slots=True)
class UserRound:
    """A user's events, stored snapshot and log entries through one round (see the module)."""

    key: UserKey
    events: list[RecordedEvent]
    stored: StoredSnapshot | None
    rebuild: bool
    foretold: SnapshotUpdate | None = None
    unseen: bool = False
    entries: list[LogEntry] = field(default_factory=list)
    top: int | None = None
    snapshot: Snapshot | None = None
    broken: str | None = None
    position: int = field(init=False)
    """The seq the stored snapshot has applied (0: none yet); the events go above it."""

    def __post_init__(self) -> None:
        self.position = self.stored.seq if self.stored is not None else 0

    @property
    def base(self) -> Snapshot:
        """The stored snapshot, or the empty one."""
        return self.stored.snapshot if self.stored is not None else Snapshot.empty(*self.key)

    @property
    def version(self) -> int:
        """How many times the stored snapshot was written (0: none yet); a write names it."""
        return self.stored.version if self.stored is not None else 0

    @property
    def ready(self) -> bool:
        """The foretold write holds: every event went in as sent, and nothing else is there."""
        return (
            self.foretold is not None
            and not self.unseen
            and self.top is not None
            and len(self.entries) == len(self.events)
        )

    @property
    def saving(self) -> bool:
        """There is a snapshot to write: the user reached a top and its fold did not break."""
        return self.top is not None and self.broken is None

    def update(self) -> SnapshotUpdate:
        """The snapshot write at `top`, naming the stored one it replaces."""
        if self.ready and self.foretold is not None:
            return self.foretold
        assert self.snapshot is not None, "a round saves only what it advanced"
        assert self.top is not None, "a round saves only what it advanced"
        return SnapshotUpdate(self.key, self.snapshot, self.top, self.position, self.version)
