"""The course catalog's use cases: views of a user's courses, and changing the catalog.

A view records the certificates it finds earned. Replacing a course stores the new version
at once, keeps the one it replaced and queues a catalog job (`catalog_jobs`), which judges
every claim on the course by each kept version and the new one; until it has, views judge a
claim by the kept versions too. Removing a course judges its claims first. Either way no
change to the catalog ever takes a certificate back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.domain import Certificate, Course, CourseView, CourseViews, Snapshot
from shared.domain.course_views import course_view, course_views
from shared.service_layer.catalog_job_records import CatalogJob, CourseChange
from shared.service_layer.catalog_jobs import earned_under_any
from shared.service_layer.ports import (
    CatalogJobStore,
    CatalogStore,
    CertificateStore,
    Clock,
    SnapshotStore,
)

__all__ = ["CatalogChange", "CourseCatalog", "CourseSaved"]

_SWEEP_BATCH = 500
"""Certificates written per round trip while sweeping a tenant's claims."""


@dataclass(frozen=True, slots=True)
class CourseSaved:
    """A stored course version and the job that judges the claims on the course under it."""

    created: bool
    job: CatalogJob


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """What removing a course did.

    Attributes:
        claims_checked: Snapshots with a claim on the course that were judged.
        certificates_recorded: Certificates recorded by this change (earned, not yet recorded).
    """

    claims_checked: int
    certificates_recorded: int


class CourseCatalog:
    """Course views and catalog changes, over the catalog, certificate, snapshot and job stores."""

    def __init__(
        self,
        courses: CatalogStore,
        certificates: CertificateStore,
        snapshots: SnapshotStore,
        jobs: CatalogJobStore,
        clock: Clock,
    ) -> None:
        self.courses = courses
        self.certificates = certificates
        self.jobs = jobs
        self._snapshots = snapshots
        self._clock = clock

    async def views(self, snapshot: Snapshot) -> CourseViews:
        """The views of the catalog courses the user touched; records newly earned certificates.

        A tenant without a catalog costs one query and gets no views.
        """
        tenant_id = snapshot.tenant_id
        totals = await self.courses.totals(tenant_id)
        if totals.courses == 0:
            return CourseViews(courses={})
        held = await self._held(snapshot)
        courses = await self.courses.touching(
            tenant_id, list(snapshot.items), [*snapshot.courses, *held]
        )
        result = course_views(courses, snapshot, held, totals)
        await self._record_earned(snapshot, result.courses.values(), held)
        return result

    async def view(self, snapshot: Snapshot, course_id: str) -> CourseView | None:
        """The user's view of one course (None if not in the catalog); records a new certificate."""
        course = await self.courses.get(snapshot.tenant_id, course_id)
        if course is None:
            return None
        held = await self._held(snapshot)
        result = course_view(course, snapshot, held.get(course_id))
        await self._record_earned(snapshot, [result], held)
        return result

    async def save(self, tenant_id: str, course: Course) -> CourseSaved:
        """Store the course as its next version and queue the job that judges its claims.

        The replaced version is kept (views judge claims by it) until the job has judged
        every claim under it, so the change never takes a certificate back; the request
        itself reads no snapshot.
        """
        revision = await self.courses.put(tenant_id, course)
        change = CourseChange(tenant_id, course.course_id, revision)
        job = await self.jobs.enqueue(change, self._clock.now())
        return CourseSaved(created=revision == 1, job=job)

    async def remove(self, tenant_id: str, course_id: str) -> CatalogChange | None:
        """Remove a course after recording what claims earned; None if there was no such course.

        Recorded certificates stay, and show again if the course comes back.
        """
        previous = await self.courses.get(tenant_id, course_id)
        if previous is None:
            return None
        kept = await self.courses.kept(tenant_id, [course_id])
        versions = [*kept.get(course_id, []), previous]
        checked, recorded = await self._record_claims(tenant_id, versions)
        await self.courses.delete(tenant_id, course_id)
        return CatalogChange(checked, recorded)

    async def _held(self, snapshot: Snapshot) -> dict[str, Certificate]:
        """The user's certificates, after recording those their claims earned by kept versions.

        Only claims without a certificate are judged, so most reads add no query.
        """
        tenant_id, user_id = snapshot.tenant_id, snapshot.user_id
        held = await self.certificates.of_user(tenant_id, user_id)
        open_claims = [course_id for course_id in snapshot.courses if course_id not in held]
        if not open_claims:
            return held
        earned = [
            Certificate(tenant_id, user_id, course_id, earned_at)
            for course_id, versions in (await self.courses.kept(tenant_id, open_claims)).items()
            if (earned_at := earned_under_any(versions, snapshot)) is not None
        ]
        await self.certificates.record(earned)
        return held | {certificate.course_id: certificate for certificate in earned}

    async def _record_earned(
        self, snapshot: Snapshot, views: Iterable[CourseView], held: dict[str, Certificate]
    ) -> None:
        earned = [
            Certificate(snapshot.tenant_id, snapshot.user_id, view.course_id, earned_at)
            for view in views
            if view.course_id not in held and (earned_at := view.certificate.earned_at)
        ]
        await self.certificates.record(earned)

    async def _record_claims(self, tenant_id: str, versions: Sequence[Course]) -> tuple[int, int]:
        """Judge every claim on the course by each version; record the eligible ones.

        Returns (claims judged, certificates newly recorded).
        """
        course_id = versions[0].course_id
        checked = recorded = 0
        batch: list[Certificate] = []
        async for snapshot in self._snapshots.claiming(tenant_id, course_id):
            checked += 1
            earned_at = earned_under_any(versions, snapshot)
            if earned_at is not None:
                batch.append(Certificate(tenant_id, snapshot.user_id, course_id, earned_at))
            if len(batch) >= _SWEEP_BATCH:
                recorded += await self.certificates.record(batch)
                batch = []
        recorded += await self.certificates.record(batch)
        return checked, recorded
