"""Course views: a user's snapshot seen through the catalog, and who earned a certificate.

Everything here is a pure function of a snapshot, catalog courses and the certificates
already recorded, so a catalog change is reflected by deriving again: no log is replayed.

An item is *done* once its status reached what the catalog asks (`passed` for quizzes,
`completed` otherwise; see `CatalogItem.needs`), at `passedAt` or `completedAt`. A
`course.completed` claim earns the certificate only if the course's rule was met at the
claim's occurredAt: enough required items were done at or before it. The snapshot keeps the
first claim and the latest one; the first that was eligible gives `earnedAt`, and if neither
was, the latest is shown as refused, with the reason. The caller records a certificate the
first time a view finds it (see `Certificate`); from then on the recorded one wins over what
later claims or a changed catalog would say, so a certificate is never taken back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from .catalog import CatalogItem, Course
from .course_view_models import (
    CatalogTotals,
    Certificate,
    CertificateView,
    CourseView,
    CourseViews,
    GroupView,
    ItemView,
    OverallProgress,
    RefusedClaim,
)
from .snapshot import ItemProgress, Snapshot

__all__ = [
    "CatalogTotals",
    "Certificate",
    "CertificateView",
    "CourseView",
    "CourseViews",
    "GroupView",
    "ItemView",
    "OverallProgress",
    "RefusedClaim",
    "course_view",
    "course_views",
    "done_at",
    "eligible_claim",
    "is_touched",
]

_LISTED_IN_REASON = 10
"""Most missing items a refusal's reason names (its `missing` list has them all)."""


def is_touched(course: Course, snapshot: Snapshot, certified: bool = False) -> bool:
    """Whether the user has anything on the course: an item, a claim, or a certificate."""
    if certified or course.course_id in snapshot.courses:
        return True
    return any(item.content_id in snapshot.items for item in course.items)


def course_view(course: Course, snapshot: Snapshot, certificate: Certificate | None) -> CourseView:
    """Derive the user's view of one course.

    Args:
        course: The catalog's current definition.
        snapshot: The user's snapshot.
        certificate: The user's recorded certificate of this course, if any; it is kept
            whatever the current definition says.

    Returns:
        The view (all counts zero for an untouched course). Its `certificate.earnedAt` is
        the recorded one, else that of an eligible claim: the caller records it then.
    """
    items = [_item_view(item, snapshot.items.get(item.content_id)) for item in course.items]
    groups: dict[int | str | None, list[ItemView]] = {}
    for entry, item in zip(course.items, items, strict=True):
        groups.setdefault(entry.group, []).append(item)
    required = [item for item in items if item.required]
    optional = [item for item in items if not item.required]
    done = sum(item.done for item in required)
    activity = [item.last_attempt_at for item in items if item.last_attempt_at is not None]
    activity += [
        item.media.last_reported_at
        for item in items
        if item.media is not None and item.media.last_reported_at is not None
    ]
    return CourseView(
        course_id=course.course_id,
        title=course.title,
        completed=done,
        required=len(required),
        percentage=_percent(done, len(required)),
        optional_completed=sum(item.done for item in optional),
        optional=len(optional),
        watched_seconds=sum(item.media.watched_seconds for item in items if item.media),
        last_activity_at=max(activity, default=None),
        groups=[_group_view(key, members) for key, members in groups.items()],
        certificate=_certificate_view(course, snapshot, certificate, done),
    )


def course_views(
    courses: Iterable[Course],
    snapshot: Snapshot,
    certificates: Mapping[str, Certificate],
    totals: CatalogTotals,
) -> CourseViews:
    """Derive the views of the courses the user touched, and the overall progress.

    Args:
        courses: Catalog courses (at least those the user touched; others are skipped).
        snapshot: The user's snapshot.
        certificates: The user's recorded certificates by courseId.
        totals: The size of the whole catalog.
    """
    views = {
        course.course_id: course_view(course, snapshot, certificates.get(course.course_id))
        for course in courses
        if is_touched(course, snapshot, course.course_id in certificates)
    }
    if totals.courses == 0:
        return CourseViews(courses=views)
    done = sum(view.completed for view in views.values())
    overall = OverallProgress(
        courses=totals.courses,
        courses_touched=len(views),
        certificates=sum(view.certificate.earned_at is not None for view in views.values()),
        completed=done,
        required=totals.required,
        percentage=_percent(done, totals.required),
    )
    return CourseViews(courses=views, overall=overall)


def _percent(done: int, total: int) -> int:
    return done * 100 // total if total else 0


def done_at(item: CatalogItem, progress: ItemProgress | None) -> datetime | None:
    """When the item became done as the catalog counts it (`passedAt` or `completedAt`)."""
    if progress is None:
        return None
    return progress.passed_at if item.needs == "passed" else progress.completed_at


def _item_view(item: CatalogItem, progress: ItemProgress | None) -> ItemView:
    finished = done_at(item, progress)
    shown = progress or ItemProgress()
    return ItemView(
        content_id=item.content_id,
        kind=item.kind,
        required=item.required,
        day=item.day,
        label=item.label,
        status=shown.status,
        done=finished is not None,
        done_at=finished,
        score=shown.score,
        rating=shown.rating,
        scheduled_for=shown.scheduled_for,
        last_attempt_at=shown.last_attempt_at,
        media=shown.media,
        quiz=shown.quiz,
    )


def _group_view(key: int | str | None, items: list[ItemView]) -> GroupView:
    required = [item for item in items if item.required]
    done = sum(item.done for item in required)
    return GroupView(
        group=key,
        completed=done,
        required=len(required),
        percentage=_percent(done, len(required)) if required else None,
        items=items,
    )


def _met(course: Course, done: int) -> bool:
    """Whether `done` required items satisfy the course's certificate rule."""
    return done * 100 >= course.certificate.min_percentage * len(course.required_items)


def _missing_at(course: Course, snapshot: Snapshot, moment: datetime) -> list[CatalogItem]:
    """The required items not done at or before `moment`."""
    missing = []
    for item in course.required_items:
        finished = done_at(item, snapshot.items.get(item.content_id))
        if finished is None or finished > moment:
            missing.append(item)
    return missing


def eligible_claim(course: Course, snapshot: Snapshot) -> datetime | None:
    """The time (occurredAt) of the first claim on the course that its rule allowed, or None."""
    return _judge_claims(course, snapshot)[0]


def _judge_claims(
    course: Course, snapshot: Snapshot
) -> tuple[datetime | None, RefusedClaim | None]:
    """The eligible claim's time, or else the latest claim refused; (None, None) unclaimed."""
    progress = snapshot.courses.get(course.course_id)
    if progress is None:
        return None, None
    claims = [progress.completed_at]
    if progress.last_claimed_at is not None:
        claims.append(progress.last_claimed_at)
    required = len(course.required_items)
    missing: list[CatalogItem] = []
    for claimed_at in claims:
        missing = _missing_at(course, snapshot, claimed_at)
        if _met(course, required - len(missing)):
            return claimed_at, None
    refused = RefusedClaim(
        claimed_at=claims[-1],
        reason=_refusal(course, claims[-1], missing),
        missing=[item.content_id for item in missing],
    )
    return None, refused


def _certificate_view(
    course: Course, snapshot: Snapshot, certificate: Certificate | None, done_now: int
) -> CertificateView:
    eligible = _met(course, done_now)
    if certificate is not None:
        return CertificateView(eligible=eligible, earned_at=certificate.earned_at)
    earned_at, refused = _judge_claims(course, snapshot)
    return CertificateView(eligible=eligible, earned_at=earned_at, refused_claim=refused)


def _refusal(course: Course, claimed_at: datetime, missing: list[CatalogItem]) -> str:
    required = len(course.required_items)
    names = [
        f"{item.content_id} (must be passed)" if item.needs == "passed" else item.content_id
        for item in missing[:_LISTED_IN_REASON]
    ]
    if len(missing) > _LISTED_IN_REASON:
        names.append(f"and {len(missing) - _LISTED_IN_REASON} more")
    return (
        f"claimed at {claimed_at.isoformat().replace('+00:00', 'Z')} with "
        f"{required - len(missing)} of {required} required items done "
        f"(the certificate needs {course.certificate.min_percentage} %); "
        f"not done by then: {', '.join(names)}"
    )
