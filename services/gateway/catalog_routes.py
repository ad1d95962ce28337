"""The course catalog (`/v1/catalog/courses`, admin) and a user's view of one course.

A user's course view lives at `/v1/users/{userId}/courses/{courseId}`; the views of every
course the user touched also come with `GET /v1/users/{userId}/progress` (`courseViews`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from services.gateway.errors import ApiError
from services.gateway.progress_routes import Authorization, authorized, context_of
from services.gateway.read_your_writes import WaitFor, WaitMs, consistent_read
from shared.domain import Course, CourseView, InvalidCourse, is_valid_id, parse_course
from shared.service_layer.catalog_job_records import CatalogJob

__all__ = ["router"]

router = APIRouter(tags=["catalog"])

CourseId = Annotated[str, Path(min_length=1, max_length=128, description="The courseId.")]
UserId = Annotated[str, Path(min_length=1, max_length=128, description="The user's id.")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid credential"},
    403: {"description": "Wrong tenant, user or scope"},
    422: {"description": "Invalid courseId or course definition"},
    429: {"description": "Rate limited (see Retry-After)"},
    503: {"description": "Database unavailable (see Retry-After)"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such course in the catalog"},
    **_ERRORS,
}
_COURSE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Course"}}},
    }
}


class CatalogJobQueued(BaseModel):
    """The job that judges every user's claim on the course under the versions it replaced."""

    @classmethod
    def of(cls, job: CatalogJob) -> CatalogJobQueued:
        """The answer's view of a queued job."""
        return cls(jobId=job.job_id, state=job.state.value)

    jobId: str = Field(description="Watch it with `progressctl catalog jobs`.")
    state: str = Field(description="`queued`: no claim has been judged inside the request.")


class CourseSaved(BaseModel):
    """The stored course, its revision, and the job that judges the claims on it."""

    course: Course
    created: bool = Field(description="The course was not in the catalog before.")
    revision: int = Field(
        description="The course's revision in the catalog (1 for a course never stored)."
    )
    job: CatalogJobQueued


class CourseDeleted(BaseModel):
    """A removed course, and the job that judges the claims on it; earned certificates stay."""

    courseId: str
    revision: int = Field(description="The removal's revision of the course in the catalog.")
    job: CatalogJobQueued


class CourseSummary(BaseModel):
    """One course of a catalog listing."""

    courseId: str
    title: str | None = None
    items: int = Field(description="Items listed.")
    required: int = Field(description="Required items.")


class CoursePage(BaseModel):
    """Courses ordered by courseId, and where to continue."""

    courses: list[CourseSummary]
    next: str | None = Field(description="Pass as `after` for the next page; null at the end.")


def _course_id(course_id: str) -> str:
    if not is_valid_id(course_id):
        raise ApiError(
            422,
            "invalid_course_id",
            "courseId must be 1-128 printable characters without whitespace",
            field="courseId",
        )
    return course_id


def _not_found(course_id: str) -> ApiError:
    return ApiError(404, "course_not_found", f"no course {course_id!r} in the catalog")


@router.put(
    "/v1/catalog/courses/{courseId}",
    response_model=CourseSaved,
    response_model_exclude_none=True,
    responses={
        201: {"description": "Created", "model": CourseSaved},
        409: {"description": "The course kept changing under this PUT; nothing was stored"},
        **_ERRORS,
    },
    openapi_extra=_COURSE_BODY,
    summary="Add or replace a catalog course",
)
async def put_course(
    request: Request, response: Response, courseId: CourseId, authorization: Authorization = None
) -> CourseSaved:
    """Validate and store a course; a catalog job then judges the claims on it.

    The body's `courseId` may be left out; given, it must equal the path's. Answers 201 for
    a new course, 200 for a replaced one, once the version is stored and its job queued; no
    snapshot is read inside the request. Until the job has judged every claim, views judge
    claims by the replaced versions too, so no certificate is missed or taken back. Nothing
    is stored when the definition is invalid, nor when other writes of the course won every
    conditional write this PUT tried (409 `concurrent_change`: read it and send it again).
    """
    principal = await authorized(request, authorization, "admin", None)
    try:
        raw = await request.json()
    except ValueError as error:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error}") from None
    try:
        course = parse_course(raw, course_id=_course_id(courseId))
    except InvalidCourse as error:
        raise ApiError(422, "invalid_course", str(error), field=error.problems[0].field) from None
    saved = await context_of(request).catalog.save(principal.tenant_id, course)
    response.status_code = 201 if saved.created else 200
    return CourseSaved(
        course=course,
        created=saved.created,
        revision=saved.job.change.revision,
        job=CatalogJobQueued.of(saved.job),
    )


@router.get(
    "/v1/catalog/courses/{courseId}",
    response_model=Course,
    response_model_exclude_none=True,
    responses=_NOT_FOUND,
    summary="Read a catalog course",
)
async def get_course(
    request: Request, courseId: CourseId, authorization: Authorization = None
) -> Course:
    """The course's definition as stored."""
    principal = await authorized(request, authorization, "admin", None)
    found = await context_of(request).catalog.courses.get(principal.tenant_id, _course_id(courseId))
    if found is None:
        raise _not_found(courseId)
    return found


@router.get(
    "/v1/catalog/courses",
    response_model=CoursePage,
    responses=_ERRORS,
    summary="List the catalog's courses",
)
async def list_courses(
    request: Request,
    after: Annotated[
        str | None,
        Query(min_length=1, max_length=128, description="Start after this courseId."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Most courses to return.")] = 100,
    authorization: Authorization = None,
) -> CoursePage:
    """Summaries of the tenant's courses, ordered by courseId."""
    principal = await authorized(request, authorization, "admin", None)
    courses = await context_of(request).catalog.courses.page(principal.tenant_id, after, limit + 1)
    shown = courses[:limit]
    return CoursePage(
        courses=[
            CourseSummary(
                courseId=course.course_id,
                title=course.title,
                items=len(course.items),
                required=len(course.required_items),
            )
            for course in shown
        ],
        next=shown[-1].course_id if len(courses) > limit else None,
    )


@router.delete(
    "/v1/catalog/courses/{courseId}",
    status_code=202,
    response_model=CourseDeleted,
    responses={
        409: {"description": "The course kept changing under this DELETE; nothing was removed"},
        **_NOT_FOUND,
    },
    summary="Remove a catalog course (earned certificates stay)",
)
async def delete_course(
    request: Request, courseId: CourseId, authorization: Authorization = None
) -> CourseDeleted:
    """Remove the course and queue the job that judges the claims on it.

    Answers 202 once the course is out of the catalog and its job queued; no snapshot is
    read inside the request. The job records the certificate of every claim the removed
    version (or a version it replaced) allows; certificates once recorded stay, and show
    again if the course comes back.
    """
    principal = await authorized(request, authorization, "admin", None)
    job = await context_of(request).catalog.remove(principal.tenant_id, _course_id(courseId))
    if job is None:
        raise _not_found(courseId)
    return CourseDeleted(
        courseId=courseId, revision=job.change.revision, job=CatalogJobQueued.of(job)
    )


@router.get(
    "/v1/users/{userId}/courses/{courseId}",
    response_model=CourseView,
    response_model_exclude_none=True,
    responses=_NOT_FOUND,
    summary="Read one user's view of a catalog course",
)
async def read_course_view(
    request: Request,
    response: Response,
    userId: UserId,
    courseId: CourseId,
    waitFor: WaitFor = None,
    waitMs: WaitMs = 2000,
    authorization: Authorization = None,
) -> CourseView:
    """Counts, percentage, groups, watch time and certificate, derived from the snapshot.

    `waitFor` / `waitMs` give read-your-writes as on `GET /progress`.
    """
    principal = await authorized(request, authorization, "read", userId)
    context = context_of(request)
    key = (principal.tenant_id, userId)
    async with consistent_read(context, request, response, key, waitFor, waitMs):
        snapshot, _ = await context.reader.snapshot(key)
    view = await context.catalog.view(snapshot, _course_id(courseId))
    if view is None:
        raise _not_found(courseId)
    return view
