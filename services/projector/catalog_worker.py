"""The projector's catalog-job loop: take a queued job, run it, log and count how it ended.

Every projector runs one loop, so catalog jobs are supervised with the projectors and scale
with them (one job per projector at a time; a job's lease keeps two from running it). See
`shared.service_layer.catalog_jobs` for what a job does.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.clock import SystemClock
from shared.adapters.logs import get_logger
from shared.adapters.metrics import CATALOG_JOB_USERS, CATALOG_JOBS
from shared.adapters.mongo import Document
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.service_layer.catalog_job_records import CatalogJob, JobState
from shared.service_layer.catalog_jobs import CatalogJobRunner, CertificateStep
from shared.service_layer.ports import CourseChangeStep

__all__ = ["MAX_RUNS", "catalog_job_runner", "serve_catalog_jobs"]

log = get_logger(__name__)

MAX_RUNS = 5
"""Runs of one job that may fail before it is marked failed for good."""


def catalog_job_runner(
    db: AsyncDatabase[Document],
    settings: Settings,
    extra_steps: tuple[CourseChangeStep, ...] = (),
) -> CatalogJobRunner:
    """A runner under a worker id of its own, with the certificate step and `extra_steps`."""
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return CatalogJobRunner(
        MongoCatalogJobStore(db),
        MongoCatalogStore(db),
        MongoSnapshotStore(db),
        [CertificateStep(MongoCertificateStore(db)), *extra_steps],
        SystemClock(),
        worker=worker,
        lease=timedelta(seconds=settings.catalog_job_lease_seconds),
        page=settings.catalog_job_page,
    )


async def serve_catalog_jobs(runner: CatalogJobRunner, poll_seconds: float) -> None:
    """Run jobs one after another, waiting `poll_seconds` when there is none; never returns.

    A failing run is logged and counted; its job resumes at its checkpoint on a later take
    and is marked failed after `MAX_RUNS` runs. A take that fails (the database is away) is
    logged and counted apart, and tried again after `poll_seconds`.
    """
    while True:
        job = None
        try:
            job = await runner.take()
            if job is None:
                await asyncio.sleep(poll_seconds)
                continue
            await _run(runner, job)
        except Exception as error:
            reason = f"{type(error).__name__}: {str(error)[:300]}"
            if job is None:
                CATALOG_JOBS.labels("take_failed").inc()
                log.warning("catalog_job_take_failed", error=reason)
            else:
                CATALOG_JOBS.labels("failed").inc()
                log.error("catalog_job_failed", job=job.job_id, runs=job.attempts, error=reason)
                if job.attempts >= MAX_RUNS:
                    await _give_up(runner, job, reason)
            await asyncio.sleep(poll_seconds)


async def _run(runner: CatalogJobRunner, job: CatalogJob) -> None:
    change = job.change
    context = {"job": job.job_id, "tenant": change.tenant_id, "course": change.course_id}
    CATALOG_JOBS.labels("started").inc()
    log.info("catalog_job_started", revision=change.revision, resume_after=job.done, **context)
    outcome = await runner.run(job)
    CATALOG_JOB_USERS.inc(outcome.judged)
    CATALOG_JOBS.labels(outcome.state.value).inc()
    log.info("catalog_job_ended", state=outcome.state.value, judged=outcome.judged, **context)


async def _give_up(runner: CatalogJobRunner, job: CatalogJob, reason: str) -> None:
    try:
        await runner.fail(job, reason)
    except Exception as error:
        log.error("catalog_job_not_marked_failed", job=job.job_id, error=str(error)[:300])
        return
    log.error(
        "catalog_job_given_up", job=job.job_id, state=JobState.FAILED.value, runs=job.attempts
    )
