"""The `merges` collection: which account each merged guest went to, and how far it moved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import MERGES, Document, driver_errors, user_key
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoMergePointers"]


class MongoMergePointers:
    """One document per merged guest: where it went, and how far a paged merge has moved.

    `into` is set once a merge finished (a later merge of the guest overwrites it); `moving`
    holds the account a merge moves to and the guest's log position it moved through.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._merges = db[MERGES]

    async def point(self, tenant_id: str, guest_id: str, account_id: str) -> None:
        """Record that the guest was merged into the account."""
        document = {"t": tenant_id, "u": guest_id, "into": account_id, "at": datetime.now(UTC)}
        async with driver_errors():
            await self._merges.update_one(
                {"_id": user_key(tenant_id, guest_id)}, {"$set": document}, upsert=True
            )

    async def target(self, tenant_id: str, guest_id: str) -> str | None:
        """The account the guest was merged into, or None."""
        async with driver_errors():
            found = await self._merges.find_one({"_id": user_key(tenant_id, guest_id)})
        return None if found is None or "into" not in found else str(found["into"])

    async def merged(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """The users among `keys` that were guests merged into an account (one query)."""
        ids = [user_key(*key) for key in keys]
        async with driver_errors():
            found = await self._merges.find(
                {"_id": {"$in": ids}, "into": {"$exists": True}}, {"t": 1, "u": 1}
            ).to_list()
        return {(document["t"], document["u"]) for document in found}

    async def moved_through(self, tenant_id: str, guest_id: str, account_id: str) -> int:
        """The guest's log position moved to this account; 0 for another account or none."""
        async with driver_errors():
            found = await self._merges.find_one({"_id": user_key(tenant_id, guest_id)})
        moving = (found or {}).get("moving") or {}
        return int(moving["through"]) if moving.get("to") == account_id else 0

    async def advance(self, tenant_id: str, guest_id: str, account_id: str, seq: int) -> None:
        """Record how far the guest's log moved to the account (replaces another account's)."""
        moving = {"to": account_id, "through": seq}
        async with driver_errors():
            await self._merges.update_one(
                {"_id": user_key(tenant_id, guest_id)},
                {"$set": {"t": tenant_id, "u": guest_id, "moving": moving}},
                upsert=True,
            )
