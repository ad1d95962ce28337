"""The insights consumer's course gauges: the top courses shown, the rest removed, an outage
keeping the last values."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Gauge
from structlog.testing import capture_logs

from services.insights.course_gauges import CourseGaugeRefresher, CourseGauges
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.insights import Insights
from shared.service_layer.ports import CourseFunnel, LearnerContributions
from tests.fakes import (
    FixedClock,
    InMemoryCatalogStore,
    InMemoryCertificateStore,
    InMemoryEventLog,
    InMemoryInsightStore,
    InMemorySnapshotStore,
)

NAME = "course_learners"


def shown(registry: CollectorRegistry) -> dict[tuple[str, str, str], float]:
    """The gauge's series on `registry`, by (tenant, course, state)."""
    return {
        (sample.labels["tenant"], sample.labels["course"], sample.labels["state"]): sample.value
        for metric in registry.collect()
        for sample in metric.samples
    }


def gauges() -> tuple[CourseGauges, CollectorRegistry]:
    registry = CollectorRegistry()
    gauge = Gauge(NAME, "test", ["tenant", "course", "state"], registry=registry)
    return CourseGauges(gauge), registry


def test_each_course_shown_has_its_three_states() -> None:
    course_gauges, registry = gauges()
    course_gauges.show([CourseFunnel("demo", "c1", 5, 3, 1)])
    assert shown(registry) == {
        ("demo", "c1", "started"): 5,
        ("demo", "c1", "completed"): 3,
        ("demo", "c1", "certified"): 1,
    }


def test_a_course_that_left_the_top_has_its_series_removed() -> None:
    course_gauges, registry = gauges()
    course_gauges.show([CourseFunnel("demo", "c1", 5, 3, 1), CourseFunnel("t2", "c2", 2, 0, 0)])
    course_gauges.show([CourseFunnel("t2", "c2", 6, 1, 0), CourseFunnel("demo", "c3", 4, 0, 0)])

    series = shown(registry)
    assert {(tenant, course) for tenant, course, _ in series} == {("t2", "c2"), ("demo", "c3")}
    assert series["t2", "c2", "started"] == 6

    course_gauges.show([])
    assert shown(registry) == {}


def insights_over(store: InMemoryInsightStore) -> Insights:
    return Insights(
        InMemorySnapshotStore(),
        InMemoryCatalogStore(),
        InMemoryCertificateStore(),
        store,
        InMemoryEventLog(),
        FixedClock(),
    )


async def test_the_refresh_shows_only_the_most_started_courses() -> None:
    store = InMemoryInsightStore()
    now = FixedClock().now()
    for course, learners in (("c.most", 3), ("c.next", 2), ("c.least", 1)):
        await store.replace(
            [
                LearnerContributions("demo", f"{course}-{i}", 1, {course: {"started": 1}})
                for i in range(learners)
            ],
            now,
        )
    course_gauges, registry = gauges()

    assert await CourseGaugeRefresher(insights_over(store), course_gauges, 2).refresh()

    assert {course for _, course, _ in shown(registry)} == {"c.most", "c.next"}


async def test_an_outage_keeps_the_last_values_and_is_counted() -> None:
    store = InMemoryInsightStore()
    await store.replace(
        [LearnerContributions("demo", "u1", 1, {"c1": {"started": 1}})], FixedClock().now()
    )
    course_gauges, registry = gauges()
    refresher = CourseGaugeRefresher(insights_over(store), course_gauges, 5)
    assert await refresher.refresh()
    before = shown(registry)
    failed = "progress_insights_course_refreshes_total"
    counted = REGISTRY.get_sample_value(failed, {"outcome": "failed"}) or 0.0

    store.unavailable = StoreUnavailable("database down")
    with capture_logs() as logs:
        assert not await refresher.refresh()

    assert [(e["event"], e["error_type"]) for e in logs] == [
        ("insights_course_gauges_failed", "StoreUnavailable")
    ]
    assert (
        shown(registry)
        == before
        == {
            ("demo", "c1", "started"): 1,
            ("demo", "c1", "completed"): 0,
            ("demo", "c1", "certified"): 0,
        }
    )
    assert REGISTRY.get_sample_value(failed, {"outcome": "failed"}) == counted + 1
