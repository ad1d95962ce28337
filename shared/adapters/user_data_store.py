"""Where a user's data lives in MongoDB, for erasure, and the audit trail of erasures."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.insight_store import MongoInsightStore
from shared.adapters.mongo import (
    AUDIT,
    CATALOG_JOBS,
    CERTIFICATES,
    CHECKPOINTS,
    DEAD_LETTERS,
    EVENTS,
    INSIGHT_CONTRIBUTIONS,
    LOG_HEADS,
    MERGES,
    PARKED,
    REBUILD_RUNS,
    SNAPSHOTS,
    WRITES,
    XAPI_ATTACHMENTS,
    XAPI_PROFILES,
    XAPI_STATE,
    XAPI_STATEMENTS,
    XAPI_USAGE,
    Document,
    driver_errors,
)

__all__ = ["USER_DATA", "MongoUserDataStore"]

USER_DATA: dict[str, tuple[str, str]] = {
    EVENTS: ("t", "u"),
    LOG_HEADS: ("t", "u"),
    SNAPSHOTS: ("t", "u"),
    DEAD_LETTERS: ("tenant", "user"),
    CERTIFICATES: ("t", "u"),
    CHECKPOINTS: ("t", "u"),
    WRITES: ("t", "u"),
    MERGES: ("t", "u"),
    PARKED: ("tenant", "user"),
    XAPI_STATEMENTS: ("t", "u"),
    XAPI_USAGE: ("t", "u"),
    XAPI_ATTACHMENTS: ("t", "u"),
    XAPI_STATE: ("t", "u"),
    XAPI_PROFILES: ("t", "u"),
    INSIGHT_CONTRIBUTIONS: ("t", "u"),
}
"""Each collection holding a user's data, with its tenant and user fields."""


class MongoUserDataStore:
    """Deletes a user's documents from every collection in `USER_DATA`; keeps an audit trail."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def erase(self, tenant_id: str, user_id: str) -> dict[str, int]:
        """Delete the user's documents everywhere; return how many each collection lost.

        A rebuild run paused at this user loses its checkpoint (it then starts over), and so
        does a catalog job whose checkpoint is this user; guests merged into this user lose
        their pointer to them; the course insights' sums lose what the user contributed.
        """
        # First out of the course insights' sums, with the sums (a plain delete would not).
        deleted = {
            INSIGHT_CONTRIBUTIONS: await MongoInsightStore(self._db).forget(tenant_id, user_id)
        }
        async with driver_errors():
            for collection, (tenant_field, user_field) in USER_DATA.items():
                result = await self._db[collection].delete_many(
                    {tenant_field: tenant_id, user_field: user_id}
                )
                deleted[collection] = deleted.get(collection, 0) + result.deleted_count
            for pointer in ("into", "moving.to"):
                into = await self._db[MERGES].delete_many({"t": tenant_id, pointer: user_id})
                deleted[MERGES] += into.deleted_count
            runs = await self._db[REBUILD_RUNS].delete_many({"last": [tenant_id, user_id]})
            deleted[REBUILD_RUNS] = runs.deleted_count
            jobs = await self._db[CATALOG_JOBS].update_many(
                {"t": tenant_id, "last": user_id}, {"$set": {"last": None, "done": 0}}
            )
            deleted[CATALOG_JOBS] = jobs.modified_count
        return deleted

    async def audit(self, action: str, tenant_id: str, counts: Mapping[str, int]) -> None:
        """Record what was done, for whom (the tenant) and when; never the user id."""
        async with driver_errors():
            await self._db[AUDIT].insert_one(
                {
                    "_id": uuid.uuid4().hex,
                    "action": action,
                    "tenant": tenant_id,
                    "at": datetime.now(UTC),
                    "deleted": dict(counts),
                }
            )
