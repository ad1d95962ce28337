"""What catalog jobs need: where jobs and their checkpoints live, and the steps they run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from shared.domain import Course, Snapshot
from shared.service_layer.catalog_job_records import CatalogJob, CourseChange, JobState

__all__ = ["CatalogJobStore", "CourseChangeStep"]


class CourseChangeStep(Protocol):
    """One thing a course change recounts, run on each page of the tenant's users in order.

    `versions` are the course's versions the job judges under: every superseded one still
    kept, then the current one. A page may be judged again after a worker died mid-page, so
    a step must be idempotent per user.
    """

    async def judge(
        self, change: CourseChange, versions: Sequence[Course], snapshots: Sequence[Snapshot]
    ) -> None:
        """Apply the change to these users' derived data."""
        ...


class CatalogJobStore(Protocol):
    """Catalog jobs with their checkpoint; one worker at a time holds a job's lease."""

    async def enqueue(self, change: CourseChange, now: datetime) -> CatalogJob:
        """Queue the change's job and mark the course's other unfinished jobs superseded."""
        ...

    async def take(self, worker: str, now: datetime, lease: timedelta) -> CatalogJob | None:
        """The oldest queued job, or a running one whose lease ran out, leased to `worker`."""
        ...

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
        ...

    async def end(
        self, job: CatalogJob, worker: str, state: JobState, error: str | None = None
    ) -> bool:
        """Mark the job over (finished or failed); False if it is no longer this worker's."""
        ...

    async def release(self, job: CatalogJob, worker: str) -> None:
        """Give the lease up at once, so the next take resumes the job from its checkpoint."""
        ...

    async def recent(self, tenant_id: str | None, limit: int) -> list[CatalogJob]:
        """The newest jobs first (of one tenant, or of all)."""
        ...
