"""What a projection reports, and the error it raises when other writers keep winning."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain import OverQuota, RecordedEvent
from shared.service_layer.user_keys import UserKey

__all__ = ["ConcurrentWriters", "ProjectionReport"]


class ConcurrentWriters(Exception):
    """Another writer kept moving the same users' snapshots on; try the batch again later."""


@dataclass(slots=True)
class ProjectionReport:
    """What one projection did: counts per outcome, replays, and events that did not pass.

    `failed` events may pass on a retry; `refused` ones the store will never take.
    """

    applied: list[RecordedEvent] = field(default_factory=list)
    duplicates: int = 0
    conflicts: int = 0
    replays: list[float] = field(default_factory=list)
    failed: list[tuple[RecordedEvent, str]] = field(default_factory=list)
    refused: list[tuple[RecordedEvent, str]] = field(default_factory=list)
    erased: int = 0
    """Events of erased users, dropped."""
    over_quota: list[OverQuota] = field(default_factory=list)
    """Events refused because they would take their user past a quota (never stored)."""
    cursors: dict[UserKey, int] = field(default_factory=dict)
    """Each user's snapshot position as this projection left or found it (the changes to
    announce: a redelivered batch finds its users' snapshots already written)."""

    def merge(self, other: ProjectionReport) -> None:
        """Add another report's outcomes to this one."""
        self.applied.extend(other.applied)
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.replays.extend(other.replays)
        self.failed.extend(other.failed)
        self.refused.extend(other.refused)
        self.erased += other.erased
        self.over_quota.extend(other.over_quota)
        self.cursors.update(other.cursors)
