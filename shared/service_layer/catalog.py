"""The course catalog's use cases: views of a user's courses, and changing the catalog.

A view records the certificates it finds earned; before a course is replaced or removed,
every claim on it is judged by the old and the new definition and what was earned is
recorded, so no change to the catalog ever takes a certificate back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain import Certificate, Course, CourseView, CourseViews, Snapshot
from shared.domain.course_views import course_view, course_views, eligible_claim
from shared.service_layer.ports import CatalogStore, CertificateStore, SnapshotStore

__all__ = ["CatalogChange", "CourseCatalog"]

_SWEEP_BATCH = 500
"""Certificates written per round trip while sweeping a tenant's claims."""


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """What replacing or removing a course did.

    Attributes:
        created: The course was not in the catalog before (always False for a removal).
        claims_checked: Snapshots with a claim on the course that were judged.
        certificates_recorded: Certificates recorded by this change (earned, not yet recorded).
    """

    created: bool
    claims_checked: int
    certificates_recorded: int


class CourseCatalog:
    """Course views and catalog changes, over the catalog, certificate and snapshot stores."""

    def __init__(
        self, courses: CatalogStore, certificates: CertificateStore, snapshots: SnapshotStore
    ) -> None:
        self.courses = courses
        self.certificates = certificates
        self._snapshots = snapshots

    async def views(self, snapshot: Snapshot) -> CourseViews:
        """The views of the catalog courses the user touched; records newly earned certificates.

        A tenant without a catalog costs one query and gets no views.
        """
        tenant_id, user_id = snapshot.tenant_id, snapshot.user_id
        totals = await self.courses.totals(tenant_id)
        if totals.courses == 0:
            return CourseViews(courses={})
        held = await self.certificates.of_user(tenant_id, user_id)
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
        held = await self.certificates.of_user(snapshot.tenant_id, snapshot.user_id)
        result = course_view(course, snapshot, held.get(course_id))
        await self._record_earned(snapshot, [result], held)
        return result

    async def save(self, tenant_id: str, course: Course) -> CatalogChange:
        """Replace (or add) a course, after recording what claims earned under either version.

        Every claim on the course is judged by the stored definition and the new one; an
        eligible claim is recorded before the new definition is stored, so the change never
        takes a certificate back, and one that the new definition allows is earned at once.
        """
        previous = await self.courses.get(tenant_id, course.course_id)
        versions = [course] if previous is None else [previous, course]
        checked, recorded = await self._record_claims(tenant_id, versions)
        created = await self.courses.put(tenant_id, course)
        return CatalogChange(created, checked, recorded)

    async def remove(self, tenant_id: str, course_id: str) -> CatalogChange | None:
        """Remove a course after recording what claims earned; None if there was no such course.

        Recorded certificates stay, and show again if the course comes back.
        """
        previous = await self.courses.get(tenant_id, course_id)
        if previous is None:
            return None
        checked, recorded = await self._record_claims(tenant_id, [previous])
        await self.courses.delete(tenant_id, course_id)
        return CatalogChange(False, checked, recorded)

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
            earned_at = _earned_under_any(versions, snapshot)
            if earned_at is not None:
                batch.append(Certificate(tenant_id, snapshot.user_id, course_id, earned_at))
            if len(batch) >= _SWEEP_BATCH:
                recorded += await self.certificates.record(batch)
                batch = []
        recorded += await self.certificates.record(batch)
        return checked, recorded


def _earned_under_any(versions: Sequence[Course], snapshot: Snapshot) -> datetime | None:
    """The eligible claim's time by the first version that allows one, or None."""
    for version in versions:
        earned_at = eligible_claim(version, snapshot)
        if earned_at is not None:
            return earned_at
    return None
