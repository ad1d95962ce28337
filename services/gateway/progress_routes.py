"""`/v1/users/{userId}/progress`: write a user's events, read their snapshot and log, reset."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request

from services.gateway.auth import Principal, authenticate, require
from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.examples import USER_WRITE_EXAMPLES
from services.gateway.schemas import ProgressPage, UserWriteRequest, WriteResponse
from services.gateway.writes import check_batch_size, publish_recorded, write_events
from shared.domain import RecordedEvent, is_valid_id, new_reset_event
from shared.service_layer.ingest import Submission

__all__ = ["Authorization", "authorized", "router"]

router = APIRouter(prefix="/v1/users", tags=["progress"])

UserId = Annotated[str, Path(min_length=1, max_length=128, description="The user's id.")]
Authorization = Annotated[
    str | None, Header(description="`Bearer <tenant API key>` or `Bearer <user token>`.")
]
_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON, or nested deeper than 64 levels"},
    401: {"description": "Missing or invalid credential"},
    403: {"description": "Wrong tenant, user or scope"},
    408: {"description": "Body not received in time (PROGRESS_HTTP_BODY_TIMEOUT_SECONDS)"},
    413: {"description": "Body over 1 MiB or more than 500 events"},
    415: {"description": "Body is not application/json"},
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
) -> Principal:
    """Authenticate, check scope and user, and charge the user's and the tenant's budgets.

    A client address that keeps failing authentication is refused with 429 before its
    credential is even looked up. `events_per_user` charges many users (a bulk write);
    by default `user_id` is charged `cost`.
    """
    context = context_of(request)
    address = request.client.host if request.client else "unknown"
    context.rate_limits.check_address(address)
    try:
        principal = await authenticate(
            authorization, context.credentials, context.max_token_lifetime
        )
    except ApiError as error:
        if error.status == 401:
            context.rate_limits.charge_failure(address)
        raise
    if user_id is not None and not is_valid_id(user_id):
        raise ApiError(
            422, "invalid_user_id", "userId must be 1-128 printable characters", field="userId"
        )
    require(principal, scope, user_id)
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
    check_batch_size(len(body.events))
    principal = await authorized(request, authorization, "write", userId, len(body.events))
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
        401: {"description": "Missing or invalid credential"},
        403: {"description": "Forbidden"},
        429: {"description": "Rate limited (see Retry-After)"},
        503: {"description": "Database unavailable (see Retry-After)"},
    },
    summary="Read one user's snapshot and the events after a cursor",
)
async def read_progress(
    request: Request,
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
    authorization: Authorization = None,
) -> ProgressPage:
    """The user's snapshot and, with `since`, the events stored after that cursor.

    `courseViews` derives the catalog courses the user touched from the snapshot.
    """
    principal = await authorized(request, authorization, "read", userId)
    context = context_of(request)
    page = await context.reader.page(
        (principal.tenant_id, userId), None if since is None else int(since), limit
    )
    return ProgressPage(
        snapshot=page.snapshot.to_api(),
        events=[json.loads(entry.event.to_json()) for entry in page.entries],
        cursor=str(page.cursor),
        hasMore=page.has_more,
        courseViews=await context.catalog.views(page.snapshot),
    )


@router.delete(
    "/{userId}/progress",
    status_code=202,
    response_model=WriteResponse,
    response_model_exclude_none=True,
    responses=_WRITE_RESPONSES,
    summary="Reset one user's progress (history is kept)",
)
async def reset_progress(
    request: Request, userId: UserId, authorization: Authorization = None
) -> WriteResponse:
    """Append a `progress.reset` event: the snapshot starts empty, the history stays."""
    principal = await authorized(request, authorization, "write", userId)
    now = datetime.now(UTC)
    reset = new_reset_event(event_id=f"reset-{uuid.uuid4()}", occurred_at=now, client_id="gateway")
    recorded = RecordedEvent(
        tenant_id=principal.tenant_id, user_id=userId, received_at=now, event=reset
    )
    return await publish_recorded(context_of(request), [recorded], request.state.request_id)
