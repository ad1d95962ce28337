"""Checkpoints of `progressctl import` runs in MongoDB (`import_runs`), one per file."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import IMPORT_RUNS, Document, driver_errors

__all__ = ["MongoImportCheckpoints"]


class MongoImportCheckpoints:
    """Where an interrupted import resumes: the run's finished line count, by run id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._runs = db[IMPORT_RUNS]

    async def lines_done(self, run_id: str) -> int:
        """How many lines of the run are finished (0: no run yet)."""
        async with driver_errors():
            found = await self._runs.find_one({"_id": run_id})
        return int(found["line"]) if found else 0

    async def save(self, run_id: str, lines: int, *, at: datetime) -> None:
        """Record that the run's first `lines` lines are finished, and when."""
        async with driver_errors():
            await self._runs.update_one(
                {"_id": run_id}, {"$set": {"line": lines, "at": at}}, upsert=True
            )
