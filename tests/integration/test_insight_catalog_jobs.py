"""A course's catalog change recounts its insights in the catalog job, on the real database.

Course `c` first holds items `x` and `y`; its learners' contributions are counted under
that version. A catalog PUT then drops `x` and adds `z`: the request only stores and queues
(the sums still count `x`), and the job that judges the change, page by page after the
certificates, leaves the sums equal to a full recount of the snapshots under the new
version, with no `progressctl insights rebuild`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.insight_store import mongo_insights
from shared.adapters.mongo import Document, ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.domain import RecordedEvent, parse_course, reduce
from shared.service_layer.catalog import CourseCatalog
from shared.service_layer.catalog_job_records import JobState
from shared.service_layer.catalog_jobs import CatalogJobRunner, CertificateStep
from shared.service_layer.insights import Insights, InsightsStep
from shared.service_layer.log_entries import LogEntry
from shared.service_layer.stored_snapshots import SnapshotUpdate
from tests.fakes import FixedClock
from tests.integration.test_catalog_jobs import run_next
from tests.unit.domain.builders import TENANT, raw_event, record

pytestmark = pytest.mark.integration

LEARNERS = 60
PAGE = 25

BEFORE = parse_course(
    {
        "courseId": "c",
        "items": [{"contentId": "x", "kind": "step"}, {"contentId": "y", "kind": "step"}],
    }
)
AFTER = parse_course(
    {
        "courseId": "c",
        "items": [{"contentId": "y", "kind": "step"}, {"contentId": "z", "kind": "step"}],
    }
)


def learner_log(index: int) -> list[RecordedEvent]:
    """A third completed `x` only, a third `x` and `y` and claimed `c`, a third began `y`."""
    user = f"learner-{index:03d}"

    def step(content: str, status: str, minute: int) -> RecordedEvent:
        occurred = f"2026-11-20T10:{minute:02d}:00Z"
        payload = {"contentId": content, "status": status}
        raw = raw_event("content.progressed", occurred, payload, event_id=f"{user}-{minute}")
        return record(raw, user=user)

    if index % 3 == 0:
        return [step("x", "completed", 1)]
    if index % 3 == 1:
        claim = raw_event(
            "course.completed", "2026-11-20T11:00:00Z", {"courseId": "c"}, event_id=f"{user}-c"
        )
        return [step("x", "completed", 1), step("y", "completed", 2), record(claim, user=user)]
    return [step("y", "in_progress", 3)]


@dataclass
class World:
    """One fresh database: the catalog, its job runner with the insights step, the insights."""

    db: AsyncDatabase[Document]
    catalog: CourseCatalog
    insights: Insights
    runner: CatalogJobRunner


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    """Course `c` before the change (its own job done), its learners, their sums counted."""
    client = mongo_client(settings)
    name = f"insightjobs_{uuid.uuid4().hex[:8]}"
    db = client[name]
    await ensure_indexes(db)
    clock = FixedClock()
    jobs, courses = MongoCatalogJobStore(db), MongoCatalogStore(db)
    snapshots, certificates = MongoSnapshotStore(db), MongoCertificateStore(db)
    insights = mongo_insights(db)
    runner = CatalogJobRunner(
        jobs,
        courses,
        snapshots,
        [CertificateStep(certificates), InsightsStep(insights)],
        clock,
        worker="w1",
        lease=timedelta(seconds=30),
        page=PAGE,
    )
    built = World(db, CourseCatalog(courses, certificates, jobs, clock), insights, runner)
    await built.catalog.save(TENANT, BEFORE)
    assert await run_next(runner) is JobState.FINISHED
    log = MongoEventLog(db)
    for index in range(LEARNERS):
        events = learner_log(index)
        await log.append([LogEntry(seq, event) for seq, event in enumerate(events, 1)])
        user = events[0].user_id
        snapshot = reduce(events, tenant_id=TENANT, user_id=user)
        update = SnapshotUpdate((TENANT, user), snapshot, len(events), expected_seq=0)
        assert await snapshots.save_many([update]) == set()
    assert await insights.recount(TENANT, None) == LEARNERS
    yield built
    await client.drop_database(name)
    await client.close()


async def test_a_catalog_change_is_recounted_by_its_job_to_equal_a_full_recount(
    world: World,
) -> None:
    before = await world.insights.course(TENANT, "c", 14)
    assert before is not None
    assert (before.insights.started, before.insights.completed) == (LEARNERS, LEARNERS // 3)
    assert await world.insights.differences(TENANT) == {}

    await world.catalog.save(TENANT, AFTER)
    assert await world.insights.differences(TENANT), "the PUT itself recounts nothing"

    assert await run_next(world.runner) is JobState.FINISHED

    assert await world.insights.differences(TENANT) == {}, "the job left the sums wrong"
    after = await world.insights.course(TENANT, "c", 14)
    assert after is not None
    figures = after.insights
    # `x` is out: its completers alone started nothing of the course any more; no one did `z`.
    assert (figures.started, figures.completed) == (2 * LEARNERS // 3, 0)
    assert (figures.certified, [item.content_id for item in figures.items]) == (
        LEARNERS // 3,
        ["y", "z"],
    )
    assert [item.started for item in figures.items] == [2 * LEARNERS // 3, 0]
