"""The shapes of course views: what a user's progress through a catalog course looks like."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .snapshot import MediaProgress, QuizProgress
from .values import Omittable, Status

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
]


@dataclass(frozen=True, slots=True)
class Certificate:
    """A certificate as recorded once a view found its claim eligible; never taken back."""

    tenant_id: str
    user_id: str
    course_id: str
    earned_at: datetime
    """occurredAt of the eligible `course.completed` claim."""


@dataclass(frozen=True, slots=True)
class CatalogTotals:
    """Size of a tenant's whole catalog, for the overall percentage."""

    courses: int
    required: int
    """Required items summed over courses (an item in two courses counts twice)."""


class _View(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
    )


class ItemView(_View):
    """One catalog item with the user's progress on it."""

    content_id: str
    kind: str
    required: bool
    day: Omittable[int] = None
    label: Omittable[str] = None
    status: Status
    done: bool
    """The item reached the status the catalog asks for (passed for quizzes)."""
    done_at: Omittable[datetime] = None
    """When it did."""
    score: Omittable[int | float] = None
    rating: Omittable[str] = None
    scheduled_for: Omittable[date] = None
    last_attempt_at: Omittable[datetime] = None
    media: Omittable[MediaProgress] = None
    quiz: Omittable[QuizProgress] = None


class GroupView(_View):
    """The items of one group (a week, a module) in course order, with their counts."""

    group: Omittable[int | str] = None
    """The group as the catalog names it; absent for items without a group."""
    completed: int
    """Required items done."""
    required: int
    percentage: Omittable[int] = None
    """completed / required in whole percent, rounded down; absent without required items."""
    items: list[ItemView]


class RefusedClaim(_View):
    """A `course.completed` claim made before the course's rule was met."""

    claimed_at: datetime
    reason: str
    missing: list[str]
    """Required items not done by then, in course order."""


class CertificateView(_View):
    """The course's certificate: can it be earned now, and was it earned."""

    eligible: bool
    """The rule is met now: a claim made now would earn the certificate."""
    earned_at: Omittable[datetime] = None
    """occurredAt of the claim that earned it; absent until earned."""
    refused_claim: Omittable[RefusedClaim] = None
    """The latest claim, when no claim earned the certificate."""


class CourseView(_View):
    """A user's progress on one catalog course."""

    course_id: str
    title: Omittable[str] = None
    completed: int
    """Required items done."""
    required: int
    percentage: int
    """completed / required in whole percent, rounded down (100 only when all are done)."""
    optional_completed: int
    optional: int
    watched_seconds: int | float
    """Watch time summed over the course's items."""
    last_activity_at: Omittable[datetime] = None
    """Latest attempt or media report on any of the course's items."""
    groups: list[GroupView]
    """Groups in the order of their first item."""
    certificate: CertificateView


class OverallProgress(_View):
    """Progress over the tenant's whole catalog (e.g. all algorithms of a tracker)."""

    courses: int
    """Courses in the catalog."""
    courses_touched: int
    certificates: int
    """Certificates earned."""
    completed: int
    """Required items done, summed over the courses (an item in two courses counts twice)."""
    required: int
    percentage: int
    """completed / required in whole percent, rounded down."""


class CourseViews(_View):
    """The views of every catalog course the user touched, keyed by courseId."""

    courses: dict[str, CourseView]
    overall: Omittable[OverallProgress] = None
    """Absent while the tenant's catalog is empty."""
