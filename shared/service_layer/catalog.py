"""The course catalog's use cases: views of a user's courses, and changing the catalog.

A view records the certificates it finds earned. Replacing a course stores the new version
at once, keeps the one it replaced and queues a catalog job (`catalog_jobs`), which judges
every claim on the course by each kept version and the new one; until it has, views judge a
claim by the kept versions too. Removing a course is such a change as well: it keeps the
removed version and queues its job, which judges every claim under the kept versions only.
Either way no change to the catalog ever takes a certificate back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.domain import Certificate, Course, CourseView, CourseViews, Snapshot
from shared.domain.course_views import course_view, course_views
from shared.service_layer.catalog_job_records import CatalogJob, CourseChange
from shared.service_layer.catalog_jobs import earned_under_any
from shared.service_layer.ports import CatalogJobStore, CatalogStore, CertificateStore, Clock

__all__ = ["CourseCatalog", "CourseSaved"]


@dataclass(frozen=True, slots=True)
class CourseSaved:
    """A stored course version and the job that judges the claims on the course under it."""

    created: bool
    job: CatalogJob


class CourseCatalog:
    """Course views and catalog changes, over the catalog, certificate and job stores."""

    def __init__(
        self,
        courses: CatalogStore,
        certificates: CertificateStore,
        jobs: CatalogJobStore,
        clock: Clock,
    ) -> None:
        self.courses = courses
        self.certificates = certificates
        self.jobs = jobs
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
        revision, created = await self.courses.put(tenant_id, course)
        change = CourseChange(tenant_id, course.course_id, revision)
        job = await self.jobs.enqueue(change, self._clock.now())
        return CourseSaved(created=created, job=job)

    async def remove(self, tenant_id: str, course_id: str) -> CatalogJob | None:
        """Remove a course and queue the job that judges its claims; None if there was none.

        The course leaves the catalog at once; its removed version is kept until the job has
        judged every claim under it (a PUT that brings the course back first supersedes the
        job, and its own job judges under it too), so the removal never misses a certificate;
        the request itself reads no snapshot. Recorded certificates stay, and show again if
        the course comes back.
        """
        revision = await self.courses.remove(tenant_id, course_id)
        if revision is None:
            return None
        change = CourseChange(tenant_id, course_id, revision, removed=True)
        return await self.jobs.enqueue(change, self._clock.now())

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
