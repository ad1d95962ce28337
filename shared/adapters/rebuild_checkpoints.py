"""Checkpoints of `progressctl rebuild` runs in MongoDB (`rebuild_runs`), one per scope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import REBUILD_RUNS, Document, driver_errors
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoRebuildCheckpoints"]


class MongoRebuildCheckpoints:
    """Where an interrupted rebuild resumes."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._runs = db[REBUILD_RUNS]

    async def last_done(self, run_id: str) -> UserKey | None:
        """The last user an unfinished run completed, or None (no run, or it finished)."""
        async with driver_errors():
            found = await self._runs.find_one({"_id": run_id})
        if found is None or found["done"] or not found.get("last"):
            return None
        tenant, user = found["last"]
        return tenant, user

    async def save(
        self, run_id: str, last: UserKey | None, *, done: bool, started: datetime
    ) -> None:
        """Record a run's progress (the first save also records when it started)."""
        update: dict[str, Any] = {"done": done, "updatedAt": datetime.now(UTC)}
        if last is not None:
            update["last"] = list(last)
        async with driver_errors():
            await self._runs.update_one(
                {"_id": run_id},
                {"$set": update, "$setOnInsert": {"startedAt": started}},
                upsert=True,
            )
