"""`/v1/users/{userId}/progress`: write a user's events, read their snapshot and log, reset."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response

from services.gateway.auth import Principal, require
from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.examples import USER_WRITE_EXAMPLES
from services.gateway.read_your_writes import WaitFor, WaitMs, consistent_read
from services.gateway.schemas import ProgressPage, UserWriteRequest, WriteResponse
from services.gateway.sign_in import signed_in_from_headers
from services.gateway.writes import (
    answer,
    check_batch_size,
    refuse_erased,
    write_events,
)
from shared.adapters.logs import get_logger
from shared.domain import ContractViolation, is_valid_id
from shared.domain.payloads import MAX_RESET_ITEMS
from shared.service_layer.ingest import Submission
from shared.service_layer.resets import UnknownCourse

__all__ = ["Authorization", "UserId", "authorized", "context_of", "router"]

log = get_logger(__name__)

router = APIRouter(prefix="/v1/users", tags=["progress"])

UserId = Annotated[str, Path(min_length=1, max_length=128, description="The user's id.")]
"""A userId in a path."""
Authorization = Annotated[
    str | None, Header(description="`Bearer <tenant API key>` or `Bearer <user token>`.")
]
_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON, or nested deeper than 768 levels"},
    401: {"description": "Missing or invalid credential"},
    403: {"description": "Wrong tenant, user or scope"},
    408: {"description": "Body not received in time (PROGRESS_HTTP_BODY_TIMEOUT_SECONDS)"},
    413: {"description": "Body over 1 MiB or more than 500 events"},
    415: {"description": "Body is not application/json"},
    410: {"description": "The user was erased (code `erased`)"},
    422: {"description": "Malformed envelope"},
    429: {"description": "Rate limited (see Retry-After)"},
    503: {"description": "Broker or database unavailable (see Retry-After); resending is safe"},
}


def context_of(request: Request) -> GatewayContext:
    """The gateway's clients, set up by the app's lifespan."""
    context: GatewayContext = request.app.state.context
    return context


async def authorized(
    request: Request,
    authorization: str | None,
    scope: str,
    user_id: str | None,
    cost: int = 1,
    events_per_user: Mapping[str, int] | None = None,
    *,
    charge: bool = True,
) -> Principal:
    """Authenticate, check scope and user, and charge the user's and the tenant's budgets.

    The per-address limit on failed authentications applies (`sign_in.signed_in`).
    `events_per_user` charges many users (a bulk write); by default `user_id` is charged
    `cost`. `charge=False`: the caller charges once it knows how many events the request
    derives (`charge_derived`), before it stores or sends anything.
    """
    context = context_of(request)
    principal = await signed_in_from_headers(context, request.scope, authorization)
    if user_id is not None and not is_valid_id(user_id):
        raise ApiError(
            422, "invalid_user_id", "userId must be 1-128 printable characters", field="userId"
        )
    require(principal, scope, user_id)
    if not charge:
        return principal
    if events_per_user is None:
        events_per_user = {} if user_id is None else {user_id: cost}
    context.rate_limits.charge(principal.tenant_id, events_per_user, cost)
    return principal


@router.put(
    "/{userId}/progress",
    status_code=202,
    response_model=WriteResponse,
    response_model_exclude_none=True,
    responses=_WRITE_RESPONSES,
    summary="Send one user's progress events",
)
async def write_progress(
    request: Request,
    userId: UserId,
    body: Annotated[UserWriteRequest, Body(openapi_examples=USER_WRITE_EXAMPLES)],
    authorization: Authorization = None,
) -> WriteResponse:
    """Validate each event, publish the accepted ones, answer once the broker acknowledged."""
    check_batch_size(context_of(request), len(body.events))
    principal = await authorized(request, authorization, "write", userId, len(body.events))
    await refuse_erased(context_of(request), principal.tenant_id, userId)
    return await write_events(
        context_of(request),
        principal.tenant_id,
        [Submission(userId, raw) for raw in body.events],
        request.state.request_id,
    )


@router.get(
    "/{userId}/progress",
    response_model=ProgressPage,
    responses={
        400: {"description": "`waitFor` is not a consistency token of this user"},
        401: {"description": "Missing or invalid credential"},
        403: {"description": "Forbidden"},
        429: {"description": "Rate limited (see Retry-After)"},
        503: {"description": "Database unavailable (see Retry-After)"},
    },
    summary="Read one user's snapshot and the events after a cursor",
)
async def read_progress(
    request: Request,
    response: Response,
    userId: UserId,
    since: Annotated[
        str | None,
        Query(
            max_length=20,
            pattern=r"^[0-9]+$",
            description="Cursor from a previous read; 0 = start.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Most events to return.")] = 500,
    waitFor: WaitFor = None,
    waitMs: WaitMs = 2000,
    authorization: Authorization = None,
) -> ProgressPage:
    """The user's snapshot and, with `since`, the events stored after that cursor.

    `courseViews` derives the catalog courses the user touched from the snapshot. With
    `waitFor` (a write's consistencyToken) the answer waits until that write is reflected,
    at most `waitMs`, and says so in `Progress-Consistent: true|false`.
    """
    principal = await authorized(request, authorization, "read", userId)
    context = context_of(request)
    key = (principal.tenant_id, userId)
    async with consistent_read(context, request, response, key, waitFor, waitMs):
        page = await context.reader.page(key, None if since is None else int(since), limit)
    return ProgressPage(
        snapshot=page.snapshot.to_api(),
        events=[json.loads(entry.event.to_json()) for entry in page.entries],
        cursor=str(page.cursor),
        hasMore=page.has_more,
        courseViews=await context.catalog.views(page.snapshot),
        mergedInto=await context.merge.merged_into(*key),
    )


@router.delete(
    "/{userId}/progress",
    status_code=202,
    response_model=WriteResponse,
    response_model_exclude_none=True,
    responses={
        **_WRITE_RESPONSES,
        404: {"description": "`courseId` names no course of the catalog"},
        422: {"description": "Invalid courseId, contentId or Idempotency-Key"},
    },
    summary="Reset one user's progress, or part of it (history is kept)",
)
async def reset_progress(
    request: Request,
    userId: UserId,
    courseId: Annotated[
        str | None,
        Query(min_length=1, max_length=128, description="Reset only this catalog course."),
    ] = None,
    contentId: Annotated[
        list[str] | None,
        Query(max_length=MAX_RESET_ITEMS, description="Reset only these items (repeatable)."),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            description="Becomes the reset's eventId, so a retried DELETE resets once.",
        ),
    ] = None,
    authorization: Authorization = None,
) -> WriteResponse:
    """Append a `progress.reset` event; the history stays in the log.

    Without `courseId` or `contentId` everything is cleared; with them only those items
    (a course's items as its catalog lists them now). Send `Idempotency-Key`: a DELETE
    retried after a timeout or a 503 then never wipes progress made in between.
    """
    principal = await authorized(request, authorization, "write", userId)
    context = context_of(request)
    await refuse_erased(context, principal.tenant_id, userId)
    try:
        result = await context.ingest.reset(
            principal.tenant_id,
            userId,
            event_id=idempotency_key,
            course_id=courseId,
            content_ids=contentId,
            now=context.clock.now(),
            request_id=request.state.request_id,
        )
    except UnknownCourse as unknown:
        log.info("reset_refused", code="course_not_found", course=unknown.course_id)
        raise ApiError(404, "course_not_found", str(unknown), field="courseId") from None
    except ContractViolation as violation:
        field = "Idempotency-Key" if violation.field == "eventId" else "contentId"
        log.info("reset_refused", code="invalid_request", field=field)
        raise ApiError(422, "invalid_request", str(violation), field=field) from None
    response = answer(result)
    if idempotency_key is None:
        response.note = (
            "send an Idempotency-Key header (any unique id, reused on retries) so that a "
            "retried reset cannot wipe progress made in between"
        )
    return response
