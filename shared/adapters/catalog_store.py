"""The course catalog and the earned certificates on MongoDB.

`catalog`: one document per (tenant, course); the definition is stored as JSON text and the
item contentIds as an array of values, so no ID ever becomes a field name. Each document
carries its revision (`r`, 1 for a new course) and the replaced versions a catalog job has not
judged yet (`kept`: revision and JSON text each); a replacement is one conditional write on
the revision it read, so a version is never lost between two writers. A removal is such a
write too: the document becomes a marker without a definition (its last version kept until
the removal's job judged it), which no read of the catalog returns. `certificates`:
one document per (tenant, user, course); the first write wins and a repeat is a no-op, so a
certificate once recorded is never changed or taken back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.adapters.in_queries import find_in
from shared.adapters.mongo import (
    CATALOG,
    CERTIFICATES,
    DUPLICATE_KEY,
    Document,
    driver_errors,
    refused_entries,
    user_key,
)
from shared.domain import CatalogTotals, Certificate, Course
from shared.service_layer.errors import ConcurrentChange, StoreRejected

_WRITE_ATTEMPTS = 5
"""Conditional writes tried before a course that keeps changing under them is a conflict."""

__all__ = ["MongoCatalogStore", "MongoCertificateStore"]

_PRESENT: Document = {"body": {"$exists": True}}
"""Matches the courses in the catalog, not the markers that removed ones leave."""


class MongoCatalogStore:
    """Course definitions of every tenant; a course is replaced whole."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._catalog = db[CATALOG]

    async def get(self, tenant_id: str, course_id: str) -> Course | None:
        """The course, or None if the tenant's catalog lacks it."""
        async with driver_errors():
            document = await self._catalog.find_one(
                {"_id": user_key(tenant_id, course_id), **_PRESENT}
            )
        return None if document is None else Course.model_validate_json(document["body"])

    async def page(self, tenant_id: str, after: str | None, limit: int) -> list[Course]:
        """At most `limit` courses ordered by courseId, starting after `after` (None: first)."""
        query: Document = {"t": tenant_id, **_PRESENT}
        if after is not None:
            query["c"] = {"$gt": after}
        async with driver_errors():
            documents = await self._catalog.find(query).sort("c", 1).limit(limit).to_list()
        return [Course.model_validate_json(document["body"]) for document in documents]

    async def touching(
        self, tenant_id: str, content_ids: Sequence[str], course_ids: Sequence[str]
    ) -> list[Course]:
        """The courses that list one of `content_ids` or are one of `course_ids`, by courseId.

        Read in `in_queries` slices: a learner's items, or a recount batch's, can be many.
        """
        found: dict[str, Document] = {}
        where = {"t": tenant_id, **_PRESENT}
        async with driver_errors():
            for field, values in (("items", content_ids), ("c", course_ids)):
                for document in await find_in(self._catalog, field, values, where=where):
                    found[document["c"]] = document
        return [Course.model_validate_json(found[course]["body"]) for course in sorted(found)]

    async def totals(self, tenant_id: str) -> CatalogTotals:
        """How many courses the tenant has, and their required items summed."""
        pipeline: list[Document] = [
            {"$match": {"t": tenant_id, **_PRESENT}},
            {"$group": {"_id": None, "courses": {"$sum": 1}, "required": {"$sum": "$required"}}},
        ]
        async with driver_errors():
            found = await (await self._catalog.aggregate(pipeline)).to_list()
        if not found:
            return CatalogTotals(courses=0, required=0)
        return CatalogTotals(courses=found[0]["courses"], required=found[0]["required"])

    async def put(self, tenant_id: str, course: Course) -> tuple[int, bool]:
        """Store the course as its next revision, keeping the version it replaces.

        Returns the revision (1 for a course never stored) and whether the catalog lacked
        the course (never stored, or removed).
        """
        document: Document = {
            "t": tenant_id,
            "c": course.course_id,
            "items": [item.content_id for item in course.items],
            "required": len(course.required_items),
            "body": course.model_dump_json(),
        }
        stored = await self._next_revision(tenant_id, course.course_id, document)
        assert stored is not None  # a course stored, unlike a removal, always finds its place
        return stored

    async def remove(self, tenant_id: str, course_id: str) -> int | None:
        """Remove the course, keeping its last version for the job; its revision, or None.

        None when the catalog lacks the course. What stays is a marker with the revision and
        the kept versions: the course no longer shows anywhere, a course stored again under
        the same id continues its revisions, and job ids never repeat.
        """
        stored = await self._next_revision(tenant_id, course_id, None)
        return None if stored is None else stored[0]

    async def _next_revision(
        self, tenant_id: str, course_id: str, document: Document | None
    ) -> tuple[int, bool] | None:
        """Write `document` (None: the removal marker) as the course's next revision.

        One conditional write on the revision read, retried when another writer won it;
        the version replaced joins `kept`. Returns (revision, whether the course was absent),
        or None for a removal of an absent course.

        Raises:
            ConcurrentChange: When other writes of the course won every attempt.
        """
        key = user_key(tenant_id, course_id)
        for _ in range(_WRITE_ATTEMPTS):
            async with driver_errors():
                found = await self._catalog.find_one({"_id": key})
                now = datetime.now(UTC)
                if found is None:
                    if document is None:
                        return None
                    try:
                        await self._catalog.insert_one(
                            {"_id": key, **document, "r": 1, "kept": [], "updatedAt": now}
                        )
                    except DuplicateKeyError:
                        continue
                    return 1, True
                absent = "body" not in found
                if absent and document is None:
                    return None
                revision: int = found.get("r", 0)
                replaced = [] if absent else [{"r": revision, "body": found["body"]}]
                read = {"$exists": False} if "r" not in found else revision
                content = document or {"t": tenant_id, "c": course_id, "removedAt": now}
                result = await self._catalog.replace_one(
                    {"_id": key, "r": read},
                    {
                        **content,
                        "r": revision + 1,
                        "kept": [*found.get("kept", []), *replaced],
                        "updatedAt": now,
                    },
                )
            if result.matched_count == 1:
                return revision + 1, absent
        raise ConcurrentChange(
            f"course {course_id!r} was changed by {_WRITE_ATTEMPTS} other writes while this "
            "change was being stored; nothing was stored: read the course and send it again"
        )

    async def kept(self, tenant_id: str, course_ids: Sequence[str]) -> dict[str, list[Course]]:
        """The replaced versions a job has yet to judge, per course, oldest first.

        Courses with none are left out.
        """
        ids = [user_key(tenant_id, course_id) for course_id in course_ids]
        async with driver_errors():
            documents = await self._catalog.find(
                {"_id": {"$in": ids}}, {"c": 1, "kept": 1}
            ).to_list()
        return {
            document["c"]: [Course.model_validate_json(entry["body"]) for entry in document["kept"]]
            for document in documents
            if document.get("kept")
        }

    async def drop_kept(self, tenant_id: str, course_id: str, below: int) -> None:
        """Drop the course's kept versions older than revision `below` (a job judged them)."""
        async with driver_errors():
            await self._catalog.update_one(
                {"_id": user_key(tenant_id, course_id)}, {"$pull": {"kept": {"r": {"$lt": below}}}}
            )


class MongoCertificateStore:
    """Earned certificates; each is written once and never changed."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._certificates = db[CERTIFICATES]

    async def of_user(self, tenant_id: str, user_id: str) -> dict[str, Certificate]:
        """The user's certificates by courseId (empty if none)."""
        async with driver_errors():
            documents = await self._certificates.find({"t": tenant_id, "u": user_id}).to_list()
        return {document["c"]: _certificate(tenant_id, document) for document in documents}

    async def of_users(
        self, tenant_id: str, user_ids: Sequence[str]
    ) -> dict[str, dict[str, Certificate]]:
        """Several users' certificates by userId, then courseId, read in `in_queries` slices."""
        async with driver_errors():
            documents = await find_in(self._certificates, "u", user_ids, where={"t": tenant_id})
        found: dict[str, dict[str, Certificate]] = {}
        for document in documents:
            found.setdefault(document["u"], {})[document["c"]] = _certificate(tenant_id, document)
        return found

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
        async with driver_errors():
            try:
                await self._certificates.insert_many(documents, ordered=False)
            except BulkWriteError as error:
                refused = refused_entries(error)
                if any(item.get("code") != DUPLICATE_KEY for item in refused.values()):
                    raise StoreRejected(str(error)) from error
                return len(documents) - len(refused)
        return len(documents)


def _certificate(tenant_id: str, document: Document) -> Certificate:
    """A stored certificate (its earnedAt is kept as text, to the microsecond)."""
    return Certificate(
        tenant_id, document["u"], document["c"], datetime.fromisoformat(document["earnedAt"])
    )
