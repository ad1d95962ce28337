"""Catalog jobs: what a course change means for every user, judged off the request path.

A catalog PUT stores the new course version, keeps the one it replaced, and queues one job
for the change. A worker (in every projector) takes the job, walks the tenant's snapshots in
user order a page at a time, runs each step on the page (certificates first, then whatever
else a course change recounts), and checkpoints the last user of the page in the job itself:
a worker that dies mid-job leaves a lease that runs out, and the next one resumes after the
checkpoint. A newer change of the same course supersedes the running job, which stops at its
next checkpoint. When a job has walked every user, the versions it judged are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain import Certificate, Course, Snapshot
from shared.domain.course_views import eligible_claim
from shared.service_layer.catalog_job_records import CatalogJob, CourseChange, JobState
from shared.service_layer.ports import CatalogStore, CertificateStore, Clock, SnapshotStore
from shared.service_layer.ports.catalog_ports import CatalogJobStore, CourseChangeStep

__all__ = ["CatalogJobRunner", "CertificateStep", "JobOutcome", "earned_under_any"]


def earned_under_any(versions: Sequence[Course], snapshot: Snapshot) -> datetime | None:
    """The eligible claim's time by the first version that allows one, or None."""
    for version in versions:
        earned_at = eligible_claim(version, snapshot)
        if earned_at is not None:
            return earned_at
    return None


class CertificateStep:
    """Records the certificate of every claim on the course that any judged version allows.

    Certificates are written once and never taken back, so judging a page again is harmless.
    """

    def __init__(self, certificates: CertificateStore) -> None:
        self._certificates = certificates

    async def judge(
        self, change: CourseChange, versions: Sequence[Course], snapshots: Sequence[Snapshot]
    ) -> None:
        """Record the certificates these users' claims on the course earned."""
        earned = [
            Certificate(change.tenant_id, snapshot.user_id, change.course_id, earned_at)
            for snapshot in snapshots
            if change.course_id in snapshot.courses
            and (earned_at := earned_under_any(versions, snapshot)) is not None
        ]
        await self._certificates.record(earned)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a run of one job ended: its final state and the users this run judged."""

    job: CatalogJob
    state: JobState
    judged: int


class CatalogJobRunner:
    """Runs catalog jobs: takes one, walks its tenant's users page by page, and ends it.

    Each page is judged by every step, in order, then checkpointed with a renewed lease.
    A checkpoint refused (a newer change superseded the job, or the lease ran out and
    another worker took it) stops the run without touching the job further.
    """

    def __init__(
        self,
        jobs: CatalogJobStore,
        courses: CatalogStore,
        snapshots: SnapshotStore,
        steps: Sequence[CourseChangeStep],
        clock: Clock,
        *,
        worker: str,
        lease: timedelta,
        page: int,
    ) -> None:
        self._jobs = jobs
        self._courses = courses
        self._snapshots = snapshots
        self._steps = steps
        self._clock = clock
        self._worker = worker
        self._lease = lease
        self._page = page

    async def take(self) -> CatalogJob | None:
        """The next job for this worker, leased to it; None when there is none."""
        return await self._jobs.take(self._worker, self._clock.now(), self._lease)

    async def run(self, job: CatalogJob) -> JobOutcome:
        """Judge the job's users from its checkpoint on; drop the versions it judged at the end.

        A failure gives the lease up (the job resumes at its checkpoint on the next take)
        and is raised to the caller, which logs and counts it.
        """
        change = job.change
        try:
            return await self._walk(job, change)
        except Exception:
            await self._jobs.release(job, self._worker)
            raise

    async def fail(self, job: CatalogJob, error: str) -> None:
        """Mark the job failed for good (its kept versions stay, so views still judge them)."""
        await self._jobs.end(job, self._worker, JobState.FAILED, error)

    async def _walk(self, job: CatalogJob, change: CourseChange) -> JobOutcome:
        kept = await self._courses.kept(change.tenant_id, [change.course_id])
        current = await self._courses.get(change.tenant_id, change.course_id)
        versions = [*kept.get(change.course_id, []), *([current] if current else [])]
        total = await self._snapshots.count_of(change.tenant_id)
        last, done, judged = job.last_user, job.done, 0
        async with aclosing(self._snapshots.walk(change.tenant_id, last, self._page)) as walk:
            async for page in walk:
                for step in self._steps:
                    await step.judge(change, versions, page)
                last, done, judged = page[-1].user_id, done + len(page), judged + len(page)
                if not await self._jobs.checkpoint(
                    job,
                    self._worker,
                    last_user=last,
                    done=done,
                    total=total,
                    lease_until=self._clock.now() + self._lease,
                ):
                    return JobOutcome(job, JobState.SUPERSEDED, judged)
        await self._courses.drop_kept(change.tenant_id, change.course_id, change.revision)
        ended = await self._jobs.end(job, self._worker, JobState.FINISHED)
        return JobOutcome(job, JobState.FINISHED if ended else JobState.SUPERSEDED, judged)
