"""The `merges` collection: which account each merged guest went to."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import MERGES, Document, driver_errors, user_key

__all__ = ["MongoMergePointers"]


class MongoMergePointers:
    """One document per merged guest; a later merge of the same guest overwrites it."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._merges = db[MERGES]

    async def point(self, tenant_id: str, guest_id: str, account_id: str) -> None:
        """Record that the guest was merged into the account."""
        document = {"t": tenant_id, "u": guest_id, "into": account_id, "at": datetime.now(UTC)}
        async with driver_errors():
            await self._merges.replace_one(
                {"_id": user_key(tenant_id, guest_id)}, document, upsert=True
            )

    async def target(self, tenant_id: str, guest_id: str) -> str | None:
        """The account the guest was merged into, or None."""
        async with driver_errors():
            found = await self._merges.find_one({"_id": user_key(tenant_id, guest_id)})
        return None if found is None else str(found["into"])
