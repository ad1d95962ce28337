"""Catalog jobs on the real database: off the request path, resumable, superseded, dropped.

The scenario: course `c` first asks for item `x` only; every claimant completed `x` and
claimed the course, so each claim is eligible under that version. The course then grows
(`x` and `y`), under which no claim is eligible: the certificates must still come, from the
job judging under the kept first version, and from views while the job has not.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest

from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.mongo import CERTIFICATES, ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import Course, Snapshot, parse_course, reduce
from shared.service_layer.catalog import CourseCatalog
from shared.service_layer.catalog_job_records import CatalogJob, CourseChange, JobState
from shared.service_layer.catalog_jobs import CatalogJobRunner, CertificateStep, JobOutcome
from shared.service_layer.stored_snapshots import SnapshotUpdate
from tests.fakes import FixedClock
from tests.unit.domain.builders import raw_event, record

pytestmark = pytest.mark.integration

TENANT = "demo"
CLAIMANTS = 120
IDLE = 30
PAGE = 25
LEASE = timedelta(seconds=30)

FIRST = parse_course({"courseId": "c", "items": [{"contentId": "x", "kind": "step"}]})
GROWN = parse_course(
    {
        "courseId": "c",
        "items": [{"contentId": "x", "kind": "step"}, {"contentId": "y", "kind": "step"}],
    }
)
STRICTEST = parse_course(
    {
        "courseId": "c",
        "items": [
            {"contentId": "x", "kind": "step"},
            {"contentId": "y", "kind": "step"},
            {"contentId": "z", "kind": "step"},
        ],
    }
)


def learner(index: int, *, claims: bool) -> Snapshot:
    """A user who completed `x` (and, if `claims`, then claimed course `c`)."""
    user = f"learner-{index:04d}"
    done = raw_event(
        "content.progressed",
        "2026-11-20T10:00:00Z",
        {"contentId": "x", "status": "completed"},
        event_id=f"{user}-1",
    )
    claim = raw_event(
        "course.completed", "2026-11-20T11:00:00Z", {"courseId": "c"}, event_id=f"{user}-2"
    )
    events = [record(done, user=user), *([record(claim, user=user)] if claims else [])]
    return reduce(events, tenant_id=TENANT, user_id=user)


class Gate:
    """A step double: records each page it judged, and can hold a page until let through."""

    def __init__(self, hold_page: int | None = None) -> None:
        self.judged: list[str] = []
        self.revisions: list[int] = []
        self.changes: list[tuple[CourseChange, list[Course]]] = []
        self.hold_page = hold_page
        self.held = asyncio.Event()
        self.release = asyncio.Event()
        self._pages = 0

    async def judge(
        self, change: CourseChange, versions: Sequence[Course], snapshots: Sequence[Snapshot]
    ) -> None:
        self._pages += 1
        if self._pages == self.hold_page:
            self.held.set()
            await self.release.wait()
        self.revisions.append(change.revision)
        self.changes.append((change, list(versions)))
        self.judged.extend(snapshot.user_id for snapshot in snapshots)


class World:
    """The stores of one fresh database, and a catalog over them on a fixed clock."""

    def __init__(self, db: object) -> None:
        self.db = db
        self.clock = FixedClock()
        self.jobs = MongoCatalogJobStore(db)  # type: ignore[arg-type]
        self.courses = MongoCatalogStore(db)  # type: ignore[arg-type]
        self.snapshots = MongoSnapshotStore(db)  # type: ignore[arg-type]
        self.certificates = MongoCertificateStore(db)  # type: ignore[arg-type]
        self.catalog = CourseCatalog(self.courses, self.certificates, self.jobs, self.clock)

    def runner(self, *steps: Gate, worker: str = "w1") -> CatalogJobRunner:
        return CatalogJobRunner(
            self.jobs,
            self.courses,
            self.snapshots,
            [CertificateStep(self.certificates), *steps],
            self.clock,
            worker=worker,
            lease=LEASE,
            page=PAGE,
        )

    async def certified(self) -> dict[str, str]:
        documents = await self.db[CERTIFICATES].find({"t": TENANT}).to_list()  # type: ignore[index]
        return {document["u"]: document["earnedAt"] for document in documents}

    async def job(self, job_id: str) -> CatalogJob:
        return next(job for job in await self.jobs.recent(TENANT, 50) if job.job_id == job_id)


EVERY_CLAIM = {f"learner-{i:04d}": "2026-11-20T11:00:00+00:00" for i in range(CLAIMANTS)}
EVERY_USER = sorted(f"learner-{i:04d}" for i in range(CLAIMANTS + IDLE))


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    """A fresh database: course `c` in its first version (its job done), then the learners."""
    client = mongo_client(settings)
    name = f"catalogjobs_{uuid.uuid4().hex[:8]}"
    db = client[name]
    await ensure_indexes(db)
    built = World(db)
    await built.catalog.save(TENANT, FIRST)
    await run_next(built.runner())
    snapshots = [learner(i, claims=i < CLAIMANTS) for i in range(CLAIMANTS + IDLE)]
    updates = [
        SnapshotUpdate((TENANT, s.user_id), s, s.event_count, expected_seq=0) for s in snapshots
    ]
    assert await built.snapshots.save_many(updates) == set()
    yield built
    await client.drop_database(name)
    await client.close()


async def run_next(runner: CatalogJobRunner) -> JobState:
    """Take the next job and run it to its end."""
    job = await runner.take()
    assert job is not None
    return (await runner.run(job)).state


async def held_run(runner: CatalogJobRunner, gate: Gate) -> asyncio.Task[JobOutcome]:
    """Take the next job and run it in a task, until the gate holds its page."""
    job = await runner.take()
    assert job is not None
    running = asyncio.create_task(runner.run(job))
    await gate.held.wait()
    return running


async def test_the_put_only_stores_and_queues_and_the_job_then_judges_every_claim(
    world: World,
) -> None:
    saved = await world.catalog.save(TENANT, GROWN)

    assert (saved.created, saved.job.change.revision, saved.job.state) == (
        False,
        2,
        JobState.QUEUED,
    )
    assert await world.certified() == {}, "no claim is judged inside the request"
    assert await world.courses.get(TENANT, "c") == GROWN
    assert await world.courses.kept(TENANT, ["c"]) == {"c": [FIRST]}

    gate = Gate()
    assert await run_next(world.runner(gate)) is JobState.FINISHED

    assert await world.certified() == EVERY_CLAIM
    assert gate.judged == EVERY_USER
    assert await world.courses.kept(TENANT, ["c"]) == {}, "the judged version is dropped"
    job = await world.job(saved.job.job_id)
    assert (job.state, job.done, job.total, job.attempts) == (
        JobState.FINISHED,
        CLAIMANTS + IDLE,
        CLAIMANTS + IDLE,
        1,
    )


async def test_a_killed_worker_s_job_resumes_after_its_checkpoint_and_equals_a_full_recount(
    world: World,
) -> None:
    saved = await world.catalog.save(TENANT, GROWN)
    first_gate = Gate(hold_page=3)
    running = await held_run(world.runner(first_gate, worker="killed"), first_gate)
    running.cancel()  # the worker dies mid-page: no release, no cleanup, its lease still held
    with pytest.raises(asyncio.CancelledError):
        await running
    assert (await world.job(saved.job.job_id)).done == 2 * PAGE

    second_gate = Gate()
    second = world.runner(second_gate, worker="restarted")
    assert await second.take() is None, "the dead worker's lease still holds the job"
    world.clock.advance(LEASE.total_seconds() + 1)
    assert await run_next(second) is JobState.FINISHED

    judged = first_gate.judged + second_gate.judged
    assert sorted(judged) == EVERY_USER, "every user judged once, in user order"
    assert judged == EVERY_USER
    assert await world.certified() == EVERY_CLAIM
    job_now = await world.job(saved.job.job_id)
    assert (job_now.state, job_now.done, job_now.attempts) == (
        JobState.FINISHED,
        CLAIMANTS + IDLE,
        2,
    )


async def test_a_second_put_supersedes_the_running_job_which_stops_at_its_next_checkpoint(
    world: World,
) -> None:
    grown = await world.catalog.save(TENANT, GROWN)
    gate = Gate(hold_page=2)
    running = await held_run(world.runner(gate), gate)

    strictest = await world.catalog.save(TENANT, STRICTEST)
    assert (await world.job(grown.job.job_id)).state is JobState.SUPERSEDED
    gate.release.set()
    outcome = await running
    assert (outcome.state, outcome.judged) == (JobState.SUPERSEDED, 2 * PAGE)
    assert await world.courses.kept(TENANT, ["c"]) == {"c": [FIRST, GROWN]}

    assert await run_next(world.runner(gate)) is JobState.FINISHED
    assert gate.revisions[-1] == strictest.job.change.revision == 3
    assert await world.certified() == EVERY_CLAIM
    assert await world.courses.kept(TENANT, ["c"]) == {}
    assert (await world.job(strictest.job.job_id)).state is JobState.FINISHED


async def test_views_during_the_job_judge_claims_by_the_kept_version(world: World) -> None:
    await world.catalog.save(TENANT, GROWN)
    snapshot = learner(7, claims=True)

    during = await world.catalog.view(snapshot, "c")
    assert during is not None
    assert (during.certificate.eligible, str(during.certificate.earned_at)) == (
        False,
        "2026-11-20 11:00:00+00:00",
    )
    progress = await world.catalog.views(learner(8, claims=True))
    assert progress.courses["c"].certificate.earned_at is not None
    assert await world.certified() == {
        "learner-0007": "2026-11-20T11:00:00+00:00",
        "learner-0008": "2026-11-20T11:00:00+00:00",
    }

    assert await run_next(world.runner()) is JobState.FINISHED
    after = await world.catalog.view(snapshot, "c")
    assert after == during


async def test_a_delete_only_removes_and_queues_and_its_job_records_what_the_course_allowed(
    world: World,
) -> None:
    removal = await world.catalog.remove(TENANT, "c")

    assert removal is not None
    assert (removal.change, removal.state) == (CourseChange(TENANT, "c", 2, True), JobState.QUEUED)
    assert await world.certified() == {}, "no claim is judged inside the request"
    assert await world.courses.get(TENANT, "c") is None
    assert await world.catalog.remove(TENANT, "c") is None
    assert await world.courses.kept(TENANT, ["c"]) == {"c": [FIRST]}
    during = await world.catalog.views(learner(8, claims=True))
    assert "c" not in during.courses

    gate = Gate()
    assert await run_next(world.runner(gate)) is JobState.FINISHED

    assert await world.certified() == EVERY_CLAIM
    assert gate.judged == EVERY_USER
    assert all(change.removed for change, _ in gate.changes)
    assert all(versions == [FIRST] for _, versions in gate.changes), "judged under it alone"
    assert await world.courses.kept(TENANT, ["c"]) == {}
    job = await world.job(removal.job_id)
    assert (job.state, job.done, job.total) == (
        JobState.FINISHED,
        CLAIMANTS + IDLE,
        CLAIMANTS + IDLE,
    )
    back = await world.catalog.save(TENANT, GROWN)
    assert (back.created, back.job.job_id) == (True, f"{TENANT}/c@3"), "job ids never repeat"
