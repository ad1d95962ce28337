"""The `consistency_writes` collection: eventIds of large writes, for their tokens' lifetime.

The lifetime is the tokens' (`consistency_token_ttl_seconds`): the caller says until when
each write is kept, and a TTL index removes it after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import WRITES, Document, driver_errors
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoWrittenEvents"]


class MongoWrittenEvents:
    """One document per large write: its user and eventIds, expiring with its token."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._writes = db[WRITES]

    async def put(
        self, reference: str, key: UserKey, event_ids: Sequence[str], until: datetime
    ) -> None:
        """Keep the write's eventIds under `reference` until `until`."""
        document = {
            "_id": reference,
            "t": key[0],
            "u": key[1],
            "e": list(event_ids),
            "expiresAt": until,
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
