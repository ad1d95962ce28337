"""Course insights' use cases: follow snapshot changes, recount, and read the figures.

Every path derives a learner's contributions from their *current* snapshot (never from
the change that named them), so a late, repeated or reordered announcement is harmless:
the store replaces what it holds and adds only the difference. The rules are the domain's
(`shared.domain.insights`); a recount is the same functions over every learner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain import Certificate, Course, Snapshot
from shared.domain.insights import (
    CONTENT_SCOPE,
    ContentInsight,
    CourseInsights,
    content_contribution,
    content_insights,
    contribution,
    course_insights,
    difference,
    total,
)
from shared.service_layer.catalog_job_records import CourseChange
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.ports import (
    CatalogStore,
    CertificateStore,
    Clock,
    CourseFunnel,
    EventLog,
    InsightStore,
    LearnerContributions,
    SnapshotStore,
)
from shared.service_layer.stored_snapshots import StoredSnapshot
from shared.service_layer.user_keys import UserKey

__all__ = ["CourseFigures", "Insights", "InsightsStep"]

_BATCH = 200
"""Learners per transaction when recounting."""

Progress = Callable[[int, int], None]
"""Told how many learners a recount has done, and of how many."""


@dataclass(frozen=True, slots=True)
class CourseFigures:
    """A course's insights and when their sums last changed (None: no learner yet)."""

    insights: CourseInsights
    as_of: datetime | None


class Insights:
    """Keeps and reads the insights, over the snapshot, catalog, certificate and insight stores."""

    def __init__(
        self,
        snapshots: SnapshotStore,
        courses: CatalogStore,
        certificates: CertificateStore,
        store: InsightStore,
        events: EventLog,
        clock: Clock,
    ) -> None:
        self._snapshots = snapshots
        self._courses = courses
        self._certificates = certificates
        self._store = store
        self._events = events
        self._clock = clock

    async def follow(self, changes: Sequence[SnapshotChange]) -> int:
        """Bring the announced learners' contributions to their current snapshots.

        Returns how many learners' contributions changed.
        """
        keys = list(dict.fromkeys(change.key for change in changes))
        return await self._replace(keys, None)

    async def recount(
        self, tenant_id: str | None, course_id: str | None, progress: Progress | None = None
    ) -> int:
        """Recompute contributions from every learner's snapshot (of a tenant, or all).

        With `course_id` (the tenant's), only that course's contributions are recomputed:
        what a catalog change of the course needs (a course no longer in the catalog counts
        nothing). Returns how many learners were recounted.
        """
        keys = await self._events.users(tenant_id, None)
        for start in range(0, len(keys), _BATCH):
            batch = keys[start : start + _BATCH]
            await self._replace(batch, course_id)
            if progress is not None:
                progress(start + len(batch), len(keys))
        return len(keys)

    async def recount_course(self, keys: Sequence[UserKey], course_id: str) -> int:
        """Recompute these learners' contributions to one course from their snapshots.

        What a catalog job does for each page of a changed course's tenant. Returns how
        many learners' contributions changed.
        """
        changed = 0
        for start in range(0, len(keys), _BATCH):
            changed += await self._replace(keys[start : start + _BATCH], course_id)
        return changed

    async def differences(self, tenant_id: str | None) -> dict[tuple[str, str], dict[str, float]]:
        """Where the kept sums differ from a recount of the current snapshots (read only).

        Keyed by (tenant, scope); each value holds the counts that differ, as kept minus
        recounted. Empty when the sums are right, which they are once the consumer has
        caught up; the chaos campaign checks it after killing the consumer under load.
        """
        recounted: dict[tuple[str, str], list[Mapping[str, float]]] = {}
        keys = await self._events.users(tenant_id, None)
        for start in range(0, len(keys), _BATCH):
            for learner in await self._learners(keys[start : start + _BATCH], None):
                for scope, counts in learner.scopes.items():
                    recounted.setdefault((learner.tenant_id, scope), []).append(counts)
        found: dict[tuple[str, str], dict[str, float]] = {}
        for (tenant, scope), parts in recounted.items():
            kept = await self._store.totals(tenant, scope)
            delta = difference(total(parts), kept.counts)
            wrong = {key: value for key, value in delta.items() if abs(value) > 1e-6}
            if wrong:
                found[(tenant, scope)] = wrong
        return found

    async def course(
        self, tenant_id: str, course_id: str, inactive_days: int
    ) -> CourseFigures | None:
        """A catalog course's insights; None if the course is not in the catalog."""
        course = await self._courses.get(tenant_id, course_id)
        if course is None:
            return None
        totals = await self._store.totals(tenant_id, course_id)
        today = self._clock.now().date()
        return CourseFigures(
            course_insights(course, totals.counts, inactive_days, today), totals.as_of
        )

    async def content(
        self, tenant_id: str, top: int
    ) -> tuple[list[ContentInsight], datetime | None]:
        """The tenant's `top` most started items, and when their sums last changed."""
        totals = await self._store.totals(tenant_id, CONTENT_SCOPE)
        return content_insights(totals.counts, top), totals.as_of

    async def most_started(self, limit: int) -> list[CourseFunnel]:
        """The `limit` most started courses across tenants, with their funnels (the sums only).

        What the insights consumer exports as gauges: aggregates, never a learner.
        """
        return await self._store.most_started(limit)

    async def _replace(self, keys: Sequence[UserKey], only: str | None) -> int:
        learners = await self._learners(keys, only)
        return await self._store.replace(learners, self._clock.now())

    async def _learners(
        self, keys: Sequence[UserKey], only: str | None
    ) -> list[LearnerContributions]:
        """The contributions of a batch of learners now (an unreadable snapshot left out).

        Snapshots, candidate courses and certificates are each read once for the batch:
        read per learner, the certificates alone held a recount to about 100 learners/s.
        """
        stored = await self._snapshots.load_many(keys)
        candidates = await self._candidates(keys, stored, only)
        touched: dict[UserKey, list[Course]] = {}
        for key in keys:
            found = stored.get(key)
            if found is not None and found.unreadable is None:
                items = found.snapshot.items
                courses = candidates[key[0]]
                touched[key] = [c for c in courses if any(i.content_id in items for i in c.items)]
        held = await self._held([key for key, courses in touched.items() if courses])
        learners = []
        for key in keys:
            learner = _learner(key, stored.get(key), only, touched.get(key, []), held.get(key, {}))
            if learner is not None:
                learners.append(learner)
        return learners

    async def _held(self, keys: Sequence[UserKey]) -> dict[UserKey, dict[str, Certificate]]:
        """These learners' certificates by courseId, one read per tenant of the batch."""
        users: dict[str, list[str]] = {}
        for tenant_id, user_id in keys:
            users.setdefault(tenant_id, []).append(user_id)
        held: dict[UserKey, dict[str, Certificate]] = {}
        for tenant_id, user_ids in users.items():
            for user_id, certificates in (
                await self._certificates.of_users(tenant_id, user_ids)
            ).items():
                held[tenant_id, user_id] = certificates
        return held

    async def _candidates(
        self, keys: Sequence[UserKey], stored: Mapping[UserKey, StoredSnapshot], only: str | None
    ) -> dict[str, list[Course]]:
        """The courses a batch's learners may count in, read once per tenant of the batch.

        With `only`, that course (if still in the catalog); else every course listing an
        item one of the tenant's learners has. One catalog read per batch, not per learner.
        """
        items: dict[str, set[str]] = {tenant_id: set() for tenant_id, _ in keys}
        for key in keys:
            found = stored.get(key)
            if found is not None and found.unreadable is None:
                items[key[0]].update(found.snapshot.items)
        candidates: dict[str, list[Course]] = {}
        for tenant_id, content_ids in items.items():
            if only is not None:
                course = await self._courses.get(tenant_id, only)
                candidates[tenant_id] = [] if course is None else [course]
            else:
                candidates[tenant_id] = await self._courses.touching(
                    tenant_id, sorted(content_ids), []
                )
        return candidates


def _learner(
    key: UserKey,
    stored: StoredSnapshot | None,
    only: str | None,
    touched: Sequence[Course],
    held: Mapping[str, Certificate],
) -> LearnerContributions | None:
    """The learner's contributions now; None while their snapshot cannot be read.

    An unreadable snapshot is being recomputed by the projector, which announces it
    again; counting it as empty meanwhile would move the learner out of every course.
    A course the learner has no item of counts nothing (nothing started), so it needs
    no contribution: what they held there before is replaced by nothing. `touched` are
    the candidate courses listing one of their items; `held`, their certificates.
    """
    tenant_id, user_id = key
    if stored is None:
        return LearnerContributions(tenant_id, user_id, None, only=only)
    if stored.unreadable is not None:
        return None
    snapshot = stored.snapshot
    scopes = {
        course.course_id: contribution(course, snapshot, held.get(course.course_id))
        for course in touched
    }
    if only is None:
        scopes[CONTENT_SCOPE] = content_contribution(snapshot)
    return LearnerContributions(tenant_id, user_id, stored.seq, scopes, only)


class InsightsStep:
    """The catalog job's insights step: a changed course is recounted for every learner.

    The job walks the tenant's snapshots a page at a time (`CatalogJobRunner`); each page's
    learners have their contribution to the course replaced from their current snapshots
    under the course's current version, so the sums equal a recount once the job is done.
    Replacing is idempotent, so a page judged again after a worker died changes nothing.
    """

    def __init__(self, insights: Insights) -> None:
        self._insights = insights

    async def judge(
        self, change: CourseChange, versions: Sequence[Course], snapshots: Sequence[Snapshot]
    ) -> None:
        """Recount the page's learners' contributions to the changed course."""
        keys = [(change.tenant_id, snapshot.user_id) for snapshot in snapshots]
        await self._insights.recount_course(keys, change.course_id)
