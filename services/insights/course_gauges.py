"""The course funnel gauges: the most started courses' learner counts, kept bounded.

`progress_insights_course_learners{tenant, course, state}` is exported for the
`PROGRESS_INSIGHTS_METRIC_COURSES` courses (across tenants) the most learners started, read
from the stored sums on a timer (one read per refresh, never per change). A course that
leaves that set has its series removed, so the gauge never holds more than three series per
course shown. Only aggregates: no learner id is ever a label.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from prometheus_client import Gauge

from shared.adapters.logs import get_logger
from shared.adapters.metrics import INSIGHTS_COURSE_REFRESHES
from shared.domain.insights import FUNNEL_KEYS
from shared.service_layer.errors import StoreRejected, StoreUnavailable
from shared.service_layer.insights import Insights
from shared.service_layer.ports import CourseFunnel

__all__ = ["CourseGaugeRefresher", "CourseGauges"]

log = get_logger(__name__)


class CourseGauges:
    """Shows a set of course funnels on a gauge, removing the series of courses no longer in it.

    The gauge is labelled (tenant, course, state); `state` is one of `FUNNEL_KEYS`.
    """

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge
        self._shown: set[tuple[str, str]] = set()

    def show(self, funnels: Sequence[CourseFunnel]) -> None:
        """Set each course's three series; remove those of courses shown before but not now."""
        current = {(funnel.tenant_id, funnel.course_id) for funnel in funnels}
        for funnel in funnels:
            counts = (funnel.started, funnel.completed, funnel.certified)
            for state, count in zip(FUNNEL_KEYS, counts, strict=True):
                self._gauge.labels(funnel.tenant_id, funnel.course_id, state).set(count)
        for tenant, course in self._shown - current:
            for state in FUNNEL_KEYS:
                self._gauge.remove(tenant, course, state)
        self._shown = current


class CourseGaugeRefresher:
    """Refreshes the course gauges from the insights' sums; an outage keeps the last values."""

    def __init__(self, insights: Insights, gauges: CourseGauges, courses: int) -> None:
        self._insights = insights
        self._gauges = gauges
        self._courses = courses

    async def refresh(self) -> bool:
        """Read the most started courses once and show them; False (logged, counted) on failure."""
        try:
            funnels = await self._insights.most_started(self._courses)
        except (StoreUnavailable, StoreRejected) as error:
            INSIGHTS_COURSE_REFRESHES.labels("failed").inc()
            log.warning(
                "insights_course_gauges_failed",
                courses=self._courses,
                error_type=type(error).__name__,
                error=str(error),
            )
            return False
        self._gauges.show(funnels)
        INSIGHTS_COURSE_REFRESHES.labels("ok").inc()
        return True

    async def run(self, every_seconds: float) -> None:
        """Refresh now and then every `every_seconds`, until cancelled."""
        while True:
            await self.refresh()
            await asyncio.sleep(every_seconds)
