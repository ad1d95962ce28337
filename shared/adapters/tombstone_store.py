"""The `tombstones` collection: erased users, by a keyed hash of (tenant, user) only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import TOMBSTONES, Document, driver_errors
from shared.domain.tombstones import tombstone_id
from shared.service_layer.records import UserKey

__all__ = ["MongoTombstoneStore"]


class MongoTombstoneStore:
    """Tombstones keyed by HMAC-SHA256 of the user id under `PROGRESS_ERASURE_SECRET`."""

    def __init__(self, db: AsyncDatabase[Document], secret: bytes) -> None:
        self._tombstones = db[TOMBSTONES]
        self._secret = secret

    def _id(self, key: UserKey) -> str:
        return tombstone_id(self._secret, *key)

    async def erased(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """The users among `keys` that were erased, in one query."""
        ids = {self._id(key): key for key in keys}
        async with driver_errors():
            found = await self._tombstones.find({"_id": {"$in": list(ids)}}, {"_id": 1}).to_list()
        return {ids[document["_id"]] for document in found}

    async def bury(self, tenant_id: str, user_id: str) -> None:
        """Record the erasure (the tenant and time in clear, the user only hashed)."""
        async with driver_errors():
            await self._tombstones.update_one(
                {"_id": self._id((tenant_id, user_id))},
                {"$setOnInsert": {"t": tenant_id, "at": datetime.now(UTC)}},
                upsert=True,
            )

    async def exhume(self, tenant_id: str, user_id: str) -> bool:
        """Delete the tombstone; False if there was none."""
        async with driver_errors():
            result = await self._tombstones.delete_one({"_id": self._id((tenant_id, user_id))})
        return result.deleted_count == 1
