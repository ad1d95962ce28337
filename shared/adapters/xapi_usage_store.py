"""What each xAPI quota owner has stored, as running totals in MongoDB (`xapi_usage`).

One small document per (tenant, owner): statements `s`, documents `d`, attachment bytes `b`,
changed with `$inc` so concurrent writers add up, and the owner's userId `u` (if a user's)
so that erasure deletes it (`USER_DATA`). A quota check reads it instead of counting the
records themselves, which the embedded database reads whole (20 one-MiB State documents:
about 90 ms per count).
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import XAPI_USAGE, Document, driver_errors, user_key
from shared.service_layer.xapi.ports import Usage

__all__ = ["MongoUsageStore"]


class MongoUsageStore:
    """Running totals per tenant and quota owner."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._usage = db[XAPI_USAGE]

    async def usage(self, tenant_id: str, owner: str) -> Usage:
        """The owner's totals (zeros for an owner never seen)."""
        async with driver_errors():
            found = await self._usage.find_one({"_id": user_key(tenant_id, owner)})
        if found is None:
            return Usage()
        return Usage(found.get("s", 0), found.get("d", 0), found.get("b", 0))

    async def add(self, tenant_id: str, owner: str, user_id: str | None, change: Usage) -> None:
        """Add `change` (negative to release) to the owner's totals, atomically."""
        async with driver_errors():
            await self._usage.update_one(
                {"_id": user_key(tenant_id, owner)},
                {
                    "$inc": {
                        "s": change.statements,
                        "d": change.documents,
                        "b": change.attachment_bytes,
                    },
                    "$setOnInsert": {"t": tenant_id, "u": user_id},
                },
                upsert=True,
            )
