"""The `tombstones` collection: erased users, by a keyed hash of (tenant, user) only.

Each tombstone keeps the tenant and time in clear, the fingerprint of the secret its id is
keyed by (`k`), and the erase's second sweep: when it is due (`due`) and when it ran (`swept`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.in_queries import find_in
from shared.adapters.mongo import TOMBSTONES, Document, driver_errors
from shared.domain.tombstones import (
    secret_fingerprint,
    tombstone_candidates,
    tombstone_id,
    wrapped_tombstone_id,
)
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoTombstoneStore", "Rekeyed"]


@dataclass(frozen=True, slots=True)
class Rekeyed:
    """What a rekey found, in tombstones.

    Attributes:
        rewritten: Made under a previous secret, now wrapped under the current one.
        current: Already under the current secret.
        left: Rekeyed earlier under a secret replaced since; they still match while that
            secret stays in the ring.
    """

    rewritten: int
    current: int
    left: int


class MongoTombstoneStore:
    """Tombstones keyed by HMAC-SHA256 of the user id under `PROGRESS_ERASURE_SECRET`.

    `secrets` is the key ring, the current secret first, then `PROGRESS_ERASURE_SECRETS_PREVIOUS`:
    lookups and re-enabling match a tombstone made (or rekeyed) under any of them.
    """

    def __init__(self, db: AsyncDatabase[Document], secrets: Sequence[bytes]) -> None:
        self._tombstones = db[TOMBSTONES]
        self._secrets = tuple(secrets)
        self._fingerprint = secret_fingerprint(self._secrets[0])

    def _id(self, key: UserKey) -> str:
        return tombstone_id(self._secrets[0], *key)

    def _candidates(self, key: UserKey) -> list[str]:
        return tombstone_candidates(self._secrets, *key)

    async def erased(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """The users among `keys` that were erased, in one query."""
        ids = {candidate: key for key in keys for candidate in self._candidates(key)}
        async with driver_errors():
            found = await find_in(self._tombstones, "_id", list(ids), {"_id": 1})
        return {ids[document["_id"]] for document in found}

    async def bury(self, tenant_id: str, user_id: str) -> None:
        """Record the erasure (the tenant and time in clear, the user only hashed)."""
        async with driver_errors():
            await self._tombstones.update_one(
                {"_id": self._id((tenant_id, user_id))},
                {"$setOnInsert": {"t": tenant_id, "at": datetime.now(UTC), "k": self._fingerprint}},
                upsert=True,
            )

    async def exhume(self, tenant_id: str, user_id: str) -> bool:
        """Delete the tombstone (under every secret of the ring); False if there was none."""
        async with driver_errors():
            result = await self._tombstones.delete_many(
                {"_id": {"$in": self._candidates((tenant_id, user_id))}}
            )
        return result.deleted_count > 0

    async def second_sweep_due(
        self, tenant_id: str, user_id: str, due: datetime
    ) -> datetime | None:
        """When the erase's second sweep is due (recorded by the first run); None once done."""
        selector = {"_id": self._id((tenant_id, user_id))}
        async with driver_errors():
            await self._tombstones.update_one(
                {**selector, "due": {"$exists": False}, "swept": {"$exists": False}},
                {"$set": {"due": due}},
            )
            found = await self._tombstones.find_one(selector)
        if found is None or "swept" in found:
            return None
        recorded: datetime = found["due"]
        return recorded.astimezone(UTC)

    async def second_sweep_done(self, tenant_id: str, user_id: str) -> None:
        """Record that the second sweep ran."""
        async with driver_errors():
            await self._tombstones.update_one(
                {"_id": self._id((tenant_id, user_id))}, {"$set": {"swept": datetime.now(UTC)}}
            )

    async def rekey(self) -> Rekeyed:
        """Rewrite every tombstone made under an older secret under the current one (wrapped).

        Each is written under its new id before its old id is deleted, so a lookup in between
        finds one of them: nobody is un-erased on the way. A tombstone is wrapped once: one
        rekeyed under a secret that has been replaced since stays as it is (see `Rekeyed`).
        """
        rewritten = 0
        async with driver_errors():
            current = await self._tombstones.count_documents({"k": self._fingerprint})
            left = await self._tombstones.count_documents(
                {"k": {"$ne": self._fingerprint}, "w": True}
            )
            stale = self._tombstones.find({"k": {"$ne": self._fingerprint}, "w": {"$ne": True}})
            async for tombstone in stale:
                fields = {k: v for k, v in tombstone.items() if k != "_id"}
                await self._tombstones.update_one(
                    {"_id": wrapped_tombstone_id(self._secrets[0], tombstone["_id"])},
                    {"$setOnInsert": {**fields, "k": self._fingerprint, "w": True}},
                    upsert=True,
                )
                await self._tombstones.delete_one({"_id": tombstone["_id"]})
                rewritten += 1
        return Rekeyed(rewritten, current, left)
