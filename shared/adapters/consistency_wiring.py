"""Read-your-writes on the configured secrets and lifetime, wired one way for every ingester."""

from __future__ import annotations

from datetime import timedelta

from shared.adapters.settings import Settings
from shared.service_layer.consistency import ReadYourWrites, SnapshotWatcher
from shared.service_layer.ports import (
    Clock,
    DeadLetterStore,
    EventLog,
    TombstoneStore,
    WrittenEvents,
)

__all__ = ["configured_consistency"]


def configured_consistency(
    settings: Settings,
    *,
    events: EventLog,
    watcher: SnapshotWatcher,
    written: WrittenEvents,
    letters: DeadLetterStore,
    tombstones: TombstoneStore,
    clock: Clock,
) -> ReadYourWrites:
    """The consistency tokens of writes and the waits of reads, over the given stores.

    The gateway and `progressctl import` both ingest through it, so a write's token is the
    same whichever of them accepted it.
    """
    return ReadYourWrites(
        events,
        watcher,
        written,
        settings.erasure_secrets,
        letters=letters,
        tombstones=tombstones,
        clock=clock,
        lifetime=timedelta(seconds=settings.consistency_token_ttl_seconds),
    )
