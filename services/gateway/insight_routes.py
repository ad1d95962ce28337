"""Course insights (`/v1/courses/{courseId}/insights`, `/v1/insights/content`): read only.

Tenant API keys with `read` only; a user token is 403, since the figures cover every
learner. The figures are aggregates: no learner id leaves through these routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from services.gateway.errors import ApiError
from services.gateway.progress_routes import Authorization, authorized, context_of
from shared.domain import is_valid_id
from shared.domain.insights import MAX_INACTIVE_DAYS, MAX_TOP, CourseInsights

__all__ = ["router"]

router = APIRouter(tags=["insights"])

_DEFAULT_INACTIVE_DAYS = 14
_DEFAULT_TOP = 10

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "`inactiveDays` or `top` is not a whole number in range"},
    401: {"description": "Missing or invalid credential"},
    403: {"description": "Not a tenant API key with the `read` scope (user tokens never)"},
    429: {"description": "Rate limited (see Retry-After)"},
    503: {"description": "Database unavailable (see Retry-After)"},
}


class LearnerCounts(BaseModel):
    """Learners of the course: started, completed every required item, certified."""

    started: int
    completed: int
    certified: int


class QuizFigures(BaseModel):
    """A quiz item's attempts, share of its learners who passed, and mean best score."""

    attempts: int
    passRate: float
    meanBestScore: float


class MediaFigures(BaseModel):
    """A media item's mean watched seconds and share of its viewers who watched 90 %."""

    meanWatchedSeconds: float
    completionRate: float


class ItemFigures(BaseModel):
    """One course item, in course order."""

    contentId: str
    kind: str
    started: int
    completed: int
    passed: int
    dropOff: int = Field(
        description="Learners whose furthest item is this one, who have not completed the "
        "course and have not been active for `inactiveDays`."
    )
    quiz: QuizFigures | None = None
    media: MediaFigures | None = None


class CourseInsightsBody(BaseModel):
    """A course's insights; `asOf` is when its figures last changed (null: no learner yet)."""

    courseId: str
    inactiveDays: int
    learners: LearnerCounts
    items: list[ItemFigures]
    medianSecondsToComplete: float | None
    asOf: datetime | None


class ContentFigures(BaseModel):
    """One of the tenant's most started items."""

    contentId: str
    started: int
    completed: int
    completionRate: float


class ContentInsightsBody(BaseModel):
    """The tenant's most started items, most started first (ties by contentId)."""

    items: list[ContentFigures]
    asOf: datetime | None


def _whole_number(value: str | None, name: str, default: int, highest: int) -> int:
    """A query parameter that must be a whole number from 1 to `highest` (400 naming it)."""
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= highest:
        raise ApiError(
            400,
            "invalid_query",
            f"{name} must be a whole number from 1 to {highest}",
            field=name,
        )
    return int(value)


def _body(insights: CourseInsights, as_of: datetime | None) -> CourseInsightsBody:
    return CourseInsightsBody(
        courseId=insights.course_id,
        inactiveDays=insights.inactive_days,
        learners=LearnerCounts(
            started=insights.started, completed=insights.completed, certified=insights.certified
        ),
        items=[
            ItemFigures(
                contentId=item.content_id,
                kind=item.kind,
                started=item.started,
                completed=item.completed,
                passed=item.passed,
                dropOff=item.drop_off,
                quiz=None if item.quiz is None else QuizFigures.model_validate(item.quiz),
                media=None if item.media is None else MediaFigures.model_validate(item.media),
            )
            for item in insights.items
        ],
        medianSecondsToComplete=insights.median_seconds_to_complete,
        asOf=as_of,
    )


@router.get(
    "/v1/courses/{courseId}/insights",
    response_model=CourseInsightsBody,
    response_model_exclude_none=True,
    responses={404: {"description": "No such course in the catalog"}, **_ERRORS},
    summary="Read a course's insights: funnel, drop-off, quizzes, media",
)
async def course_insights(
    request: Request,
    courseId: Annotated[str, Path(min_length=1, max_length=128, description="The courseId.")],
    inactiveDays: Annotated[
        str | None,
        Query(
            description=f"Drop-off counts learners inactive this many UTC days (1-"
            f"{MAX_INACTIVE_DAYS}; default {_DEFAULT_INACTIVE_DAYS})."
        ),
    ] = None,
    authorization: Authorization = None,
) -> CourseInsightsBody:
    """A course's funnel: learners started, completed and certified, and per item.

    Per item in course order: started, completed, passed and drop-off; quiz and media
    figures; and the median time to complete.
    """
    principal = await authorized(request, authorization, "read", None)
    days = _whole_number(inactiveDays, "inactiveDays", _DEFAULT_INACTIVE_DAYS, MAX_INACTIVE_DAYS)
    if not is_valid_id(courseId):
        raise ApiError(
            422,
            "invalid_course_id",
            "courseId must be 1-128 printable characters without whitespace",
            field="courseId",
        )
    figures = await context_of(request).insights.course(principal.tenant_id, courseId, days)
    if figures is None:
        raise ApiError(404, "course_not_found", f"no course {courseId!r} in the catalog")
    return _body(figures.insights, figures.as_of)


@router.get(
    "/v1/insights/content",
    response_model=ContentInsightsBody,
    responses=_ERRORS,
    summary="List the tenant's most started items with their completion rates",
)
async def content_insights(
    request: Request,
    top: Annotated[
        str | None,
        Query(description=f"How many items (1-{MAX_TOP}; default {_DEFAULT_TOP})."),
    ] = None,
    authorization: Authorization = None,
) -> ContentInsightsBody:
    """The items most learners started, whatever course lists them."""
    principal = await authorized(request, authorization, "read", None)
    count = _whole_number(top, "top", _DEFAULT_TOP, MAX_TOP)
    items, as_of = await context_of(request).insights.content(principal.tenant_id, count)
    return ContentInsightsBody(
        items=[
            ContentFigures(
                contentId=item.content_id,
                started=item.started,
                completed=item.completed,
                completionRate=item.completion_rate,
            )
            for item in items
        ],
        asOf=as_of,
    )
