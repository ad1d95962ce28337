"""Read-your-writes over MongoDB, wired one way for every process that ingests."""

from __future__ import annotations

from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.mongo import Document
from shared.adapters.settings import Settings
from shared.adapters.written_events_store import MongoWrittenEvents
from shared.service_layer.consistency import ReadYourWrites, SnapshotWatcher
from shared.service_layer.ports import Clock, TombstoneStore

__all__ = ["mongo_consistency"]


def mongo_consistency(
    db: AsyncDatabase[Document],
    settings: Settings,
    watcher: SnapshotWatcher,
    tombstones: TombstoneStore,
    clock: Clock,
) -> ReadYourWrites:
    """The consistency tokens of writes and the waits of reads, on the configured secrets.

    The gateway and `progressctl import` both ingest through it, so a write's token is the
    same whichever of them accepted it.
    """
    return ReadYourWrites(
        MongoEventLog(db, settings.log_hole_bound),
        watcher,
        MongoWrittenEvents(db),
        settings.erasure_secrets,
        letters=MongoDeadLetterStore(db),
        tombstones=tombstones,
        clock=clock,
        lifetime=timedelta(seconds=settings.consistency_token_ttl_seconds),
    )
