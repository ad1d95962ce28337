"""The projector's catalog-job loop: a failing run is logged, counted, retried, then given up."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from services.projector.catalog_worker import MAX_RUNS, serve_catalog_jobs
from shared.domain import Course, Snapshot, parse_course
from shared.service_layer.catalog import CourseCatalog
from shared.service_layer.catalog_job_records import CatalogJob, CourseChange, JobState
from shared.service_layer.catalog_jobs import CatalogJobRunner
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.stored_snapshots import StoredSnapshot
from tests.fakes import (
    FixedClock,
    InMemoryCatalogJobStore,
    InMemoryCatalogStore,
    InMemoryCertificateStore,
    InMemorySnapshotStore,
)
from tests.unit.domain.builders import TENANT, Log


class Broken:
    """A step that always raises, as a store refusing every write would."""

    def __init__(self) -> None:
        self.calls = 0

    async def judge(
        self, change: CourseChange, versions: Sequence[Course], snapshots: Sequence[Snapshot]
    ) -> None:
        self.calls += 1
        raise RuntimeError("the insights store refused the recount")


class WatchedJobs(InMemoryCatalogJobStore):
    """The fake job store, telling when a job was ended."""

    def __init__(self) -> None:
        super().__init__()
        self.ended = asyncio.Event()

    async def end(
        self, job: CatalogJob, worker: str, state: JobState, error: str | None = None
    ) -> bool:
        ended = await super().end(job, worker, state, error)
        self.ended.set()
        return ended


def failed_runs() -> float:
    return REGISTRY.get_sample_value("progress_catalog_jobs_total", {"outcome": "failed"}) or 0.0


async def test_a_job_whose_runs_keep_failing_is_retried_then_marked_failed() -> None:
    snapshots, jobs, clock = InMemorySnapshotStore(), WatchedJobs(), FixedClock()
    log = Log()
    log.add("content.progressed", "2026-11-20T10:00:00Z", {"contentId": "x", "status": "completed"})
    snapshot = log.snapshot()
    snapshots.snapshots[(TENANT, snapshot.user_id)] = StoredSnapshot(snapshot, 1)
    courses = InMemoryCatalogStore()
    catalog = CourseCatalog(courses, InMemoryCertificateStore(), jobs, clock)
    course = parse_course({"courseId": "c", "items": [{"contentId": "x", "kind": "step"}]})
    await catalog.save(TENANT, course)
    saved = await catalog.save(TENANT, course)
    broken = Broken()
    runner = CatalogJobRunner(
        jobs, courses, snapshots, [broken], clock, worker="w", lease=timedelta(60), page=10
    )
    before = failed_runs()

    with capture_logs() as logs:
        loop = asyncio.create_task(serve_catalog_jobs(runner, poll_seconds=0.001))
        await asyncio.wait_for(jobs.ended.wait(), timeout=10)
        loop.cancel()

    job = jobs.jobs[saved.job.job_id]
    assert (job.state, job.attempts, broken.calls) == (JobState.FAILED, MAX_RUNS, MAX_RUNS)
    assert job.error == "RuntimeError: the insights store refused the recount"
    assert failed_runs() - before == MAX_RUNS
    assert await courses.kept(TENANT, ["c"]) == {"c": [course]}, "views still judge under it"
    failures = [entry for entry in logs if entry["event"] == "catalog_job_failed"]
    assert [entry["job"] for entry in failures] == [saved.job.job_id] * MAX_RUNS
    given_up = [entry for entry in logs if entry["event"] == "catalog_job_given_up"]
    assert [(entry["job"], entry["runs"]) for entry in given_up] == [(saved.job.job_id, MAX_RUNS)]


class AwayJobs(InMemoryCatalogJobStore):
    """A job store whose database is away: every take fails; `tried` is set on the second."""

    def __init__(self) -> None:
        super().__init__()
        self.takes = 0
        self.tried = asyncio.Event()

    async def take(self, worker: str, now: datetime, lease: timedelta) -> CatalogJob | None:
        self.takes += 1
        if self.takes == 2:
            self.tried.set()
        raise StoreUnavailable("no primary")


async def test_a_failing_take_is_logged_counted_and_tried_again() -> None:
    jobs = AwayJobs()
    runner = CatalogJobRunner(
        jobs,
        InMemoryCatalogStore(),
        InMemorySnapshotStore(),
        [],
        FixedClock(),
        worker="w",
        lease=timedelta(60),
        page=10,
    )
    labels = {"outcome": "take_failed"}
    before = REGISTRY.get_sample_value("progress_catalog_jobs_total", labels) or 0.0
    with capture_logs() as logs:
        loop = asyncio.create_task(serve_catalog_jobs(runner, poll_seconds=0.001))
        await asyncio.wait_for(jobs.tried.wait(), timeout=10)
        loop.cancel()
    after = REGISTRY.get_sample_value("progress_catalog_jobs_total", labels) or 0.0
    assert after - before >= 1
    taken = [entry for entry in logs if entry["event"] == "catalog_job_take_failed"]
    assert taken[0]["error"] == "StoreUnavailable: no primary"
