"""The course catalog and the earned certificates on MongoDB, and the catalog's use cases.

`catalog`: one document per (tenant, course); the definition is stored as JSON text and the
item contentIds as an array of values, so no ID ever becomes a field name. `certificates`:
one document per (tenant, user, course); the first write wins and a repeat is a no-op, so a
certificate once recorded is never changed or taken back.

`CourseCatalog` is what the gateway and `progressctl` call: it derives course views from a
snapshot (recording certificates a view finds earned) and, when a course is replaced or
removed, first records every certificate a claim had earned, streaming the tenant's
snapshots in batches, so that no change to the catalog can take one back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.adapters.mongo import (
    CATALOG,
    CERTIFICATES,
    SNAPSHOTS,
    Document,
    outage_errors,
    user_key,
)
from shared.domain import CatalogTotals, Certificate, Course, CourseView, CourseViews, Snapshot
from shared.domain.course_views import course_view, course_views, eligible_claim

__all__ = ["CatalogChange", "CourseCatalog", "MongoCatalogStore", "MongoCertificateStore"]

_DUPLICATE_KEY = 11000
_SWEEP_BATCH = 500
"""Snapshots read, and certificates written, per round trip while sweeping a tenant."""


class MongoCatalogStore:
    """Course definitions of every tenant; a course is replaced whole."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._catalog = db[CATALOG]

    async def get(self, tenant_id: str, course_id: str) -> Course | None:
        """The course, or None if the tenant's catalog lacks it."""
        async with outage_errors():
            document = await self._catalog.find_one({"_id": user_key(tenant_id, course_id)})
        return None if document is None else Course.model_validate_json(document["body"])

    async def page(self, tenant_id: str, after: str | None, limit: int) -> list[Course]:
        """At most `limit` courses ordered by courseId, starting after `after` (None: first)."""
        query: Document = {"t": tenant_id}
        if after is not None:
            query["c"] = {"$gt": after}
        async with outage_errors():
            documents = await self._catalog.find(query).sort("c", 1).limit(limit).to_list()
        return [Course.model_validate_json(document["body"]) for document in documents]

    async def touching(
        self, tenant_id: str, content_ids: Sequence[str], course_ids: Sequence[str]
    ) -> list[Course]:
        """The courses that list one of `content_ids` or are one of `course_ids`."""
        if not content_ids and not course_ids:
            return []
        query = {
            "t": tenant_id,
            "$or": [{"items": {"$in": list(content_ids)}}, {"c": {"$in": list(course_ids)}}],
        }
        async with outage_errors():
            documents = await self._catalog.find(query).sort("c", 1).to_list()
        return [Course.model_validate_json(document["body"]) for document in documents]

    async def totals(self, tenant_id: str) -> CatalogTotals:
        """How many courses the tenant has, and their required items summed."""
        pipeline: list[Document] = [
            {"$match": {"t": tenant_id}},
            {"$group": {"_id": None, "courses": {"$sum": 1}, "required": {"$sum": "$required"}}},
        ]
        async with outage_errors():
            found = await (await self._catalog.aggregate(pipeline)).to_list()
        if not found:
            return CatalogTotals(courses=0, required=0)
        return CatalogTotals(courses=found[0]["courses"], required=found[0]["required"])

    async def put(self, tenant_id: str, course: Course) -> bool:
        """Store the course, replacing one with the same courseId; True if it is new."""
        document = {
            "t": tenant_id,
            "c": course.course_id,
            "items": [item.content_id for item in course.items],
            "required": len(course.required_items),
            "body": course.model_dump_json(),
            "updatedAt": datetime.now(UTC),
        }
        async with outage_errors():
            result = await self._catalog.replace_one(
                {"_id": user_key(tenant_id, course.course_id)}, document, upsert=True
            )
        return result.upserted_id is not None

    async def delete(self, tenant_id: str, course_id: str) -> bool:
        """Remove the course; False if there was none."""
        async with outage_errors():
            result = await self._catalog.delete_one({"_id": user_key(tenant_id, course_id)})
        return result.deleted_count == 1


class MongoCertificateStore:
    """Earned certificates; each is written once and never changed."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._certificates = db[CERTIFICATES]

    async def of_user(self, tenant_id: str, user_id: str) -> dict[str, Certificate]:
        """The user's certificates by courseId (empty if none)."""
        async with outage_errors():
            documents = await self._certificates.find({"t": tenant_id, "u": user_id}).to_list()
        return {
            document["c"]: Certificate(
                tenant_id, user_id, document["c"], datetime.fromisoformat(document["earnedAt"])
            )
            for document in documents
        }

    async def record(self, certificates: Sequence[Certificate]) -> int:
        """Record certificates not recorded yet; the first write wins. Returns how many were new.

        Idempotent: recording a certificate again, with any `earned_at`, changes nothing.
        """
        if not certificates:
            return 0
        now = datetime.now(UTC)
        documents = [
            {
                "_id": user_key(cert.tenant_id, cert.user_id, cert.course_id),
                "t": cert.tenant_id,
                "u": cert.user_id,
                "c": cert.course_id,
                # As text: a BSON date would cut the claim's microseconds.
                "earnedAt": cert.earned_at.isoformat(),
                "recordedAt": now,
            }
            for cert in certificates
        ]
        async with outage_errors():
            try:
                await self._certificates.insert_many(documents, ordered=False)
            except BulkWriteError as error:
                refused = error.details.get("writeErrors", [])
                if any(item.get("code") != _DUPLICATE_KEY for item in refused):
                    raise
                return len(documents) - len(refused)
        return len(documents)


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
    """The catalog's use cases, over the catalog, certificate and snapshot collections."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.courses = MongoCatalogStore(db)
        self.certificates = MongoCertificateStore(db)
        self._snapshots = db[SNAPSHOTS]

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

        Recorded certificates stay in `certificates`, and show again if the course comes back.
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

        Streams the tenant's snapshots, at most `_SWEEP_BATCH` held at a time; returns
        (claims judged, certificates newly recorded).
        """
        course_id = versions[0].course_id
        # Printable IDs are encoded alike by json and pydantic (only `"` and `\\` escaped), so a
        # snapshot whose JSON lacks this text cannot hold a claim on the course.
        needle = json.dumps(course_id, ensure_ascii=False)
        checked = recorded = 0
        batch: list[Certificate] = []
        cursor = self._snapshots.find({"t": tenant_id}, {"state": 1}).batch_size(_SWEEP_BATCH)
        async with outage_errors():
            async for document in cursor:
                if needle not in document["state"]:
                    continue
                snapshot = Snapshot.from_storage(document["state"])
                if course_id not in snapshot.courses:
                    continue
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
