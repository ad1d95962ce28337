"""The `snapshot_checkpoints` collection: a few snapshots per user at points of their log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import CHECKPOINTS, Document, driver_errors, user_key
from shared.domain import Snapshot
from shared.service_layer.stored_snapshots import StoredSnapshot
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoSnapshotCheckpoints"]

SortKey = tuple[datetime, str]


def _last_key(snapshot: Snapshot) -> tuple[str, str]:
    """The snapshot's last applied sort key as sortable text (UTC, microseconds)."""
    last = snapshot.last_key
    if last is None:
        return "", ""
    moment, event_id = last
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), event_id


def _sorts_before(document: Document, bound: SortKey) -> bool:
    moment, event_id = bound
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (document["ka"], document["ki"]) < (text, event_id)


class MongoSnapshotCheckpoints:
    """Checkpoints as JSON text beside their seq and last sort key; a few per user."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._checkpoints = db[CHECKPOINTS]

    async def _of(self, key: UserKey) -> list[Document]:
        query = {"t": key[0], "u": key[1]}
        async with driver_errors():
            return await self._checkpoints.find(query).sort("s", DESCENDING).to_list()

    async def latest(
        self, bounds: Mapping[UserKey, tuple[int, SortKey | None]]
    ) -> dict[UserKey, StoredSnapshot]:
        """Per user, the newest checkpoint at or below the seq and before the sort key."""
        found: dict[UserKey, StoredSnapshot] = {}
        for key, (top, before) in bounds.items():
            for document in await self._of(key):
                if document["s"] > top or (
                    before is not None and not _sorts_before(document, before)
                ):
                    continue
                try:
                    snapshot = Snapshot.from_storage(document["state"])
                except (ValueError, RecursionError):
                    continue
                found[key] = StoredSnapshot(snapshot, document["s"])
                break
        return found

    async def invalidate(self, key: UserKey, since: SortKey) -> None:
        """Delete the user's checkpoints whose last event sorts at or after `since`."""
        stale = [d["_id"] for d in await self._of(key) if not _sorts_before(d, since)]
        if stale:
            async with driver_errors():
                await self._checkpoints.delete_many(_of_user(key, {"$in": stale}))

    async def save(self, key: UserKey, stored: StoredSnapshot, keep: int) -> None:
        """Upsert the checkpoint, then delete all but the user's `keep` newest."""
        moment, event_id = _last_key(stored.snapshot)
        document = {
            "t": key[0],
            "u": key[1],
            "s": stored.seq,
            "ka": moment,
            "ki": event_id,
            "state": stored.snapshot.to_storage(),
        }
        async with driver_errors():
            await self._checkpoints.replace_one(
                _of_user(key, user_key(*key, f"{stored.seq:012d}")), document, upsert=True
            )
        extra = [d["_id"] for d in await self._of(key)][keep:]
        if extra:
            async with driver_errors():
                await self._checkpoints.delete_many(_of_user(key, {"$in": extra}))


def _of_user(key: UserKey, ids: object) -> Document:
    """A filter on checkpoint ids that names the user too (the shard key, `SHARD_KEYS`)."""
    return {"_id": ids, "t": key[0], "u": key[1]}
