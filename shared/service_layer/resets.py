"""A reset's course scope: a `courseId` stands for the course's items as the catalog lists them now.

The one expansion rule of both ways to reset a course: the `DELETE …/progress?courseId=` route
(through `Ingest.reset`) and a `progress.reset` event sent with only a `courseId` (through
`Ingest.submit`). The reducer then reads only the event's contentIds (no catalog in the fold).
A course the catalog does not hold is refused by one error, `UnknownCourse`, in both.
"""

from __future__ import annotations

from shared.domain import is_valid_id
from shared.service_layer.ingest_results import Submission
from shared.service_layer.ports import CatalogStore

__all__ = ["UnknownCourse", "expand_sent_reset", "reset_scope"]


class UnknownCourse(LookupError):
    """A reset names a course the tenant's catalog does not hold (nothing is reset)."""

    def __init__(self, course_id: str) -> None:
        super().__init__(f"no course {course_id!r} in the catalog")
        self.course_id = course_id


async def reset_scope(
    courses: CatalogStore | None,
    tenant_id: str,
    course_id: str | None,
    content_ids: list[str] | None,
) -> list[str] | None:
    """The contentIds a reset clears: the course's items, then `content_ids`; None: all.

    Raises:
        UnknownCourse: `course_id` names no course of the catalog (without a catalog: none).
    """
    if course_id is None:
        return content_ids or None
    course = await courses.get(tenant_id, course_id) if courses is not None else None
    if course is None:
        raise UnknownCourse(course_id)
    named = [item.content_id for item in course.items]
    return list(dict.fromkeys([*named, *(content_ids or [])]))


async def expand_sent_reset(
    courses: CatalogStore | None, tenant_id: str, submission: Submission
) -> Submission:
    """A sent `progress.reset` naming only a courseId, with the course's contentIds filled in.

    Anything else (another type, contentIds already named, a malformed payload or courseId)
    is left as sent for the contract to judge.

    Raises:
        UnknownCourse: The courseId names no course of the catalog.
    """
    raw = submission.raw
    if not isinstance(raw, dict) or raw.get("type") != "progress.reset":
        return submission
    payload = raw.get("payload")
    if not isinstance(payload, dict) or "contentIds" in payload:
        return submission
    course_id = payload.get("courseId")
    if not isinstance(course_id, str) or not is_valid_id(course_id):
        return submission
    content_ids = await reset_scope(courses, tenant_id, course_id, None)
    return Submission(
        submission.user_id, {**raw, "payload": {**payload, "contentIds": content_ids}}
    )
