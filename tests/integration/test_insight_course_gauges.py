"""The insights consumer's course gauges refreshed from the real database's sums.

Two courses are seeded through the insight store; with room for one course the refresh
exports the most started one's funnel, and once the other overtakes it the first one's
series are removed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry, Gauge
from pymongo.asynchronous.database import AsyncDatabase

from services.insights.course_gauges import CourseGaugeRefresher, CourseGauges
from shared.adapters.insight_store import MongoInsightStore, mongo_insights
from shared.adapters.mongo import Document, ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.service_layer.ports import LearnerContributions
from tests.fakes import FixedClock
from tests.unit.test_insights_course_gauges import shown

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncDatabase[Document]]:
    client = mongo_client(settings)
    name = f"coursegauges_{uuid.uuid4().hex[:8]}"
    database = client[name]
    await ensure_indexes(database)
    yield database
    await client.drop_database(name)
    await client.close()


async def start(store: MongoInsightStore, course: str, users: range, completed: int) -> None:
    """`users` learners start `course`, the first `completed` of them complete it."""
    await store.replace(
        [
            LearnerContributions(
                "demo",
                f"u{user}",
                user + 1,
                {
                    course: {
                        "started": 1,
                        "completed": int(user - users.start < completed),
                        "certified": 0,
                    }
                },
            )
            for user in users
        ],
        FixedClock().now(),
    )


async def test_the_refresh_exports_the_top_course_and_removes_one_that_dropped_out(
    db: AsyncDatabase[Document],
) -> None:
    store = MongoInsightStore(db)
    registry = CollectorRegistry()
    gauge = Gauge("course_learners", "test", ["tenant", "course", "state"], registry=registry)
    refresher = CourseGaugeRefresher(mongo_insights(db), CourseGauges(gauge), 1)
    await start(store, "c.first", range(3), completed=2)
    await start(store, "c.second", range(10, 12), completed=0)

    assert await refresher.refresh()
    assert shown(registry) == {
        ("demo", "c.first", "started"): 3,
        ("demo", "c.first", "completed"): 2,
        ("demo", "c.first", "certified"): 0,
    }

    await start(store, "c.second", range(20, 23), completed=1)
    assert await refresher.refresh()
    assert shown(registry) == {
        ("demo", "c.second", "started"): 5,
        ("demo", "c.second", "completed"): 1,
        ("demo", "c.second", "certified"): 0,
    }
