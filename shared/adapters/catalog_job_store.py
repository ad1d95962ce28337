"""Catalog jobs in MongoDB (`catalog_jobs`): one document per (tenant, course, revision).

A job's id is `TENANT/COURSE@REVISION`: tenant ids hold no `/` and the revision is the text
after the last `@`, so it is unique and readable in an answer or a log.

The document is the job's checkpoint as well (the last user judged, done/total), like a
`rebuild_runs` entry, and its lease: `worker` holds the job until `leaseUntil`. Every write
of a running job names its worker and state, so a worker whose job was superseded, or taken
over after its lease ran out, learns it at its next checkpoint and stops.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import CATALOG_JOBS, Document, driver_errors
from shared.service_layer.catalog_job_records import (
    ACTIVE_STATES,
    CatalogJob,
    CourseChange,
    JobState,
)

__all__ = ["MongoCatalogJobStore"]


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _job(document: Document) -> CatalogJob:
    queued_at = _aware(document["queuedAt"])
    assert queued_at is not None
    return CatalogJob(
        job_id=document["_id"],
        change=CourseChange(
            document["t"], document["c"], document["r"], document.get("removed", False)
        ),
        state=JobState(document["state"]),
        total=document.get("total", 0),
        done=document.get("done", 0),
        last_user=document.get("last"),
        queued_at=queued_at,
        started_at=_aware(document.get("startedAt")),
        updated_at=_aware(document["updatedAt"]) or queued_at,
        attempts=document.get("attempts", 0),
        error=document.get("error"),
    )


class MongoCatalogJobStore:
    """Queued, running and ended catalog jobs with their checkpoints and leases."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._jobs = db[CATALOG_JOBS]

    async def enqueue(self, change: CourseChange, now: datetime) -> CatalogJob:
        """Queue the change's job and mark the course's other unfinished jobs superseded."""
        job_id = f"{change.tenant_id}/{change.course_id}@{change.revision}"
        document: Document = {
            "t": change.tenant_id,
            "c": change.course_id,
            "r": change.revision,
            "removed": change.removed,
            "state": JobState.QUEUED.value,
            "total": 0,
            "done": 0,
            "attempts": 0,
            "queuedAt": now,
            "updatedAt": now,
        }
        async with driver_errors():
            await self._jobs.replace_one({"_id": job_id}, document, upsert=True)
            await self._jobs.update_many(
                {
                    "t": change.tenant_id,
                    "c": change.course_id,
                    "_id": {"$ne": job_id},
                    "state": {"$in": [state.value for state in ACTIVE_STATES]},
                },
                {"$set": {"state": JobState.SUPERSEDED.value, "updatedAt": now}},
            )
        return _job({"_id": job_id, **document})

    async def take(self, worker: str, now: datetime, lease: timedelta) -> CatalogJob | None:
        """The oldest queued job, or a running one whose lease ran out, leased to `worker`."""
        takeable = {
            "$or": [
                {"state": JobState.QUEUED.value},
                {"state": JobState.RUNNING.value, "leaseUntil": {"$lt": now}},
            ]
        }
        async with driver_errors():
            found = await self._jobs.find_one_and_update(
                takeable,
                {
                    "$set": {
                        "state": JobState.RUNNING.value,
                        "worker": worker,
                        "leaseUntil": now + lease,
                        "updatedAt": now,
                    },
                    "$inc": {"attempts": 1},
                },
                sort=[("queuedAt", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
            if found is None:
                return None
            if found.get("startedAt") is None:
                await self._jobs.update_one({"_id": found["_id"]}, {"$set": {"startedAt": now}})
                found["startedAt"] = now
        return _job(found)

    async def checkpoint(
        self,
        job: CatalogJob,
        worker: str,
        *,
        last_user: str | None,
        done: int,
        total: int,
        lease_until: datetime,
    ) -> bool:
        """Record progress and renew the lease; False if the job is no longer this worker's."""
        update = {
            "last": last_user,
            "done": done,
            "total": total,
            "leaseUntil": lease_until,
            "updatedAt": datetime.now(UTC),
        }
        return await self._own_update(job, worker, update)

    async def end(
        self, job: CatalogJob, worker: str, state: JobState, error: str | None = None
    ) -> bool:
        """Mark the job over (finished or failed); False if it is no longer this worker's."""
        now = datetime.now(UTC)
        update: dict[str, Any] = {"state": state.value, "updatedAt": now, "endedAt": now}
        if error is not None:
            update["error"] = error
        return await self._own_update(job, worker, update)

    async def release(self, job: CatalogJob, worker: str) -> None:
        """Give the lease up at once, so the next take resumes the job from its checkpoint."""
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        await self._own_update(job, worker, {"leaseUntil": epoch})

    async def recent(self, tenant_id: str | None, limit: int) -> list[CatalogJob]:
        """The newest jobs first (of one tenant, or of all)."""
        query: Document = {} if tenant_id is None else {"t": tenant_id}
        async with driver_errors():
            documents = (
                await self._jobs.find(query).sort("queuedAt", DESCENDING).limit(limit).to_list()
            )
        return [_job(document) for document in documents]

    async def _own_update(self, job: CatalogJob, worker: str, update: dict[str, Any]) -> bool:
        owned = {"_id": job.job_id, "worker": worker, "state": JobState.RUNNING.value}
        async with driver_errors():
            result = await self._jobs.update_one(owned, {"$set": update})
        return result.matched_count == 1
