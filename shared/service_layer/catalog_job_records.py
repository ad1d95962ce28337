"""The values of catalog jobs: a course change, and a job's state and progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["ACTIVE_STATES", "CatalogJob", "CourseChange", "JobState"]


class JobState(StrEnum):
    """Where a catalog job is: waiting, taken by a worker, or over (one of three ways)."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    SUPERSEDED = "superseded"
    FAILED = "failed"


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)
"""The states of a job that still has users to judge."""


@dataclass(frozen=True, slots=True)
class CourseChange:
    """Course `course_id` of tenant `tenant_id` changed; `revision` is the catalog's new one.

    `removed`: the change removed the course, so the job judges under its kept versions only.
    """

    tenant_id: str
    course_id: str
    revision: int
    removed: bool = False


@dataclass(frozen=True, slots=True)
class CatalogJob:
    """A catalog job as stored: its change, state and progress over the tenant's users.

    Attributes:
        job_id: One id per (tenant, course, revision).
        done: Users judged so far; `total` is the tenant's users when the job last counted.
        last_user: The checkpoint: the last user whose page every step has judged.
        attempts: Times a worker took the job (more than one: it resumed after a failure).
    """

    job_id: str
    change: CourseChange
    state: JobState
    total: int
    done: int
    last_user: str | None
    queued_at: datetime
    started_at: datetime | None
    updated_at: datetime
    attempts: int
    error: str | None = None
