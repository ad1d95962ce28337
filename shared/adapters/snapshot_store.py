"""The MongoDB snapshot store: `snapshots`, one document per (tenant, user)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.adapters.in_queries import find_in
from shared.adapters.logs import get_logger
from shared.adapters.metrics import SNAPSHOTS_UNREADABLE
from shared.adapters.mongo import (
    DUPLICATE_KEY,
    SNAPSHOTS,
    Document,
    driver_errors,
    journal_flush,
    refused_entries,
    unjournaled,
    user_key,
)
from shared.domain import QuotaUsage, Snapshot, usage_of
from shared.service_layer.errors import StoreRejected
from shared.service_layer.stored_snapshots import SnapshotUpdate, StoredSnapshot
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoSnapshotStore"]

log = get_logger(__name__)


def _usage_fields(usage: QuotaUsage) -> list[int]:
    return [usage.items, usage.max_interactions, usage.bytes]


def _read(key: UserKey, document: Document, where: str = "load") -> StoredSnapshot:
    """The stored snapshot, or an empty one marked unreadable (logged and counted)."""
    try:
        snapshot = Snapshot.from_storage(document["state"])
    except (ValueError, RecursionError) as error:
        reason = f"{type(error).__name__}: {str(error)[:300]}"
        SNAPSHOTS_UNREADABLE.labels(where).inc()
        log.error("snapshot_unreadable", tenant=key[0], where=where, error=reason)
        return StoredSnapshot(
            Snapshot.empty(*key),
            document.get("s", 0),
            unreadable=reason,
            version=document.get("v", 0),
        )
    return StoredSnapshot(
        snapshot, document["s"], size=len(document["state"]), version=document.get("v", 0)
    )


class MongoSnapshotStore:
    """Snapshots on MongoDB, each stored as one JSON text field next to its applied `seq`.

    A write names the seq it expects to replace; if another writer moved the snapshot on,
    the conditional upsert collides on `_id` and the caller learns that user is stale.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._snapshots = db[SNAPSHOTS]
        self._bulk = unjournaled(db, SNAPSHOTS)

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        """The stored snapshots of these users, in one query."""
        if not keys:
            return {}
        ids = [user_key(*key) for key in keys]
        found: dict[UserKey, StoredSnapshot] = {}
        async with driver_errors():
            for document in await find_in(self._snapshots, "_id", ids):
                key = (document["t"], document["u"])
                found[key] = _read(key, document)
        return found

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        """Write every update in one unordered bulk; return the users that were stale.

        The bulk is made durable by one journal flush once it is done, not by a flush per
        document (see `unjournaled`); the updates it applied are durable when this returns.
        """
        if not updates:
            return set()
        now = datetime.now(UTC)
        encoded = [update.encoded for update in updates]
        operations = [
            ReplaceOne(
                {
                    "_id": user_key(*update.key),
                    "t": update.key[0],
                    "u": update.key[1],
                    "s": update.expected_seq,
                    # Snapshots written before versions existed have none: they count as 0.
                    "v": update.expected_version or {"$in": [0, None]},
                },
                {
                    "t": update.key[0],
                    "u": update.key[1],
                    "s": update.seq,
                    "v": update.expected_version + 1,
                    "state": state,
                    "q": _usage_fields(usage_of(update.snapshot, len(state))),
                    "writtenAt": now,
                },
                upsert=True,
            )
            for update, state in zip(updates, encoded, strict=True)
        ]
        stale: set[UserKey] = set()
        async with driver_errors():
            try:
                await self._bulk.bulk_write(operations, ordered=False)
            except BulkWriteError as error:
                refused = refused_entries(error)
                if any(item.get("code") != DUPLICATE_KEY for item in refused.values()):
                    raise StoreRejected(str(error)) from error
                stale = {updates[index].key for index in refused}
        await journal_flush(self._db)
        return stale

    async def positions(self, keys: Sequence[UserKey]) -> dict[UserKey, int]:
        """The applied seq of each user's snapshot, without reading the snapshots."""
        ids = [user_key(*key) for key in keys]
        async with driver_errors():
            found = await find_in(self._snapshots, "_id", ids, {"t": 1, "u": 1, "s": 1})
        seqs = {(document["t"], document["u"]): document["s"] for document in found}
        return {key: seqs.get(key, 0) for key in keys}

    async def usage(self, keys: Sequence[UserKey]) -> dict[UserKey, QuotaUsage]:
        """Each stored snapshot's use of the quotas, from the fields written beside it."""
        ids = [user_key(*key) for key in keys]
        async with driver_errors():
            found = await find_in(self._snapshots, "_id", ids, {"t": 1, "u": 1, "q": 1})
        known: dict[UserKey, Any] = {(d["t"], d["u"]): d.get("q") for d in found}
        usage: dict[UserKey, QuotaUsage] = {}
        for key in keys:
            fields = known.get(key, [0, 0, 0]) if key not in known or known[key] else None
            if isinstance(fields, list) and len(fields) == 3:
                usage[key] = QuotaUsage(int(fields[0]), int(fields[1]), int(fields[2]))
        return usage

    async def count_of(self, tenant: str) -> int:
        """How many users of the tenant have a snapshot."""
        async with driver_errors():
            return await self._snapshots.count_documents({"t": tenant})

    async def walk(
        self, tenant: str, after: str | None, page: int
    ) -> AsyncGenerator[list[Snapshot]]:
        """The tenant's snapshots ordered by userId, after `after`, in pages of `page`.

        One cursor for the whole walk: a query per page would sort the rest of the tenant
        again each time (quadratic on SecantusDB). An unreadable snapshot comes back empty
        (logged and counted).
        """
        query: dict[str, Any] = {"t": tenant}
        if after is not None:
            query["u"] = {"$gt": after}
        fields = {"state": 1, "u": 1, "s": 1}
        cursor = self._snapshots.find(query, fields).sort("u", 1).batch_size(page)
        batch: list[Snapshot] = []
        async with driver_errors():
            async for document in cursor:
                batch.append(_read((tenant, document["u"]), document, where="sweep").snapshot)
                if len(batch) == page:
                    yield batch
                    batch = []
        if batch:
            yield batch
