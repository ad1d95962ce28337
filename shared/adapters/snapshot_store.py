"""The MongoDB snapshot store: `snapshots`, one document per (tenant, user)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.adapters.mongo import SNAPSHOTS, Document, outage_errors, user_key
from shared.domain import Snapshot
from shared.service_layer.ports import SnapshotUpdate, StoredSnapshot, UserKey

__all__ = ["MongoSnapshotStore"]

_DUPLICATE_KEY = 11000


class MongoSnapshotStore:
    """Snapshots on MongoDB, each stored as one JSON text field next to its applied `seq`.

    A write names the seq it expects to replace; if another writer moved the snapshot on,
    the conditional upsert collides on `_id` and the caller learns that user is stale.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._snapshots = db[SNAPSHOTS]

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        """The stored snapshots of these users, in one query."""
        if not keys:
            return {}
        ids = [user_key(*key) for key in keys]
        found: dict[UserKey, StoredSnapshot] = {}
        async with outage_errors():
            async for document in self._snapshots.find({"_id": {"$in": ids}}):
                found[(document["t"], document["u"])] = StoredSnapshot(
                    snapshot=Snapshot.from_storage(document["state"]), seq=document["s"]
                )
        return found

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        """Write every update in one unordered bulk; return the users that were stale."""
        if not updates:
            return set()
        now = datetime.now(UTC)
        operations = [
            ReplaceOne(
                {"_id": user_key(*update.key), "s": update.expected_seq},
                {
                    "t": update.key[0],
                    "u": update.key[1],
                    "s": update.seq,
                    "state": update.snapshot.to_storage(),
                    "writtenAt": now,
                },
                upsert=True,
            )
            for update in updates
        ]
        async with outage_errors():
            try:
                await self._snapshots.bulk_write(operations, ordered=False)
            except BulkWriteError as error:
                stale: set[UserKey] = set()
                for item in error.details.get("writeErrors", []):
                    if item.get("code") != _DUPLICATE_KEY:
                        raise
                    stale.add(updates[item["index"]].key)
                return stale
        return set()
