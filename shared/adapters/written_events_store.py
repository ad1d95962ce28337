"""The `consistency_writes` collection: eventIds of large writes, for their tokens' lifetime."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import WRITES, Document, driver_errors
from shared.service_layer.user_keys import UserKey

__all__ = ["TOKEN_LIFETIME", "MongoWrittenEvents"]

TOKEN_LIFETIME = timedelta(days=7)
"""How long a consistency token of a large write can be waited on (a TTL index expires it)."""


class MongoWrittenEvents:
    """One document per large write: its user and eventIds, expiring after a week."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._writes = db[WRITES]

    async def put(self, reference: str, key: UserKey, event_ids: Sequence[str]) -> None:
        """Keep the write's eventIds under `reference`."""
        document = {
            "_id": reference,
            "t": key[0],
            "u": key[1],
            "e": list(event_ids),
            "expiresAt": datetime.now(UTC) + TOKEN_LIFETIME,
        }
        async with driver_errors():
            await self._writes.replace_one({"_id": reference}, document, upsert=True)

    async def get(self, reference: str) -> tuple[UserKey, list[str]] | None:
        """The write's user and eventIds, or None (unknown or expired)."""
        async with driver_errors():
            found = await self._writes.find_one({"_id": reference})
        if found is None or found["expiresAt"] < datetime.now(UTC):
            return None
        return (found["t"], found["u"]), list(found["e"])
