"""Moving progress in: from a guest into an account (merge), and from a saved state (import)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.gateway.errors import ApiError
from services.gateway.progress_routes import Authorization, UserId, authorized, context_of
from services.gateway.schemas import EventResult, MergeResponse, WriteResponse
from services.gateway.writes import (
    charge_derived,
    check_batch_size,
    refuse_erased,
    write_events,
)
from shared.domain import ContractViolation, Id, events_from_state, parse_state
from shared.service_layer.ingest import Submission
from shared.service_layer.merge import MergeRefused

__all__ = ["router"]

router = APIRouter(prefix="/v1/users", tags=["progress"])


class MergeRequest(BaseModel):
    """`POST /v1/users/{userId}/merge`: the guest whose progress moves to `userId`."""

    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

    guest: Id = Field(alias="from", description="The guest's userId.")


@router.post(
    "/{userId}/merge",
    status_code=202,
    response_model=MergeResponse,
    response_model_exclude_none=True,
    responses={
        401: {"description": "Missing or invalid credential"},
        403: {"description": "Not an API key with the `write` scope"},
        410: {"description": "The account or the guest was erased (code `erased`)"},
        422: {"description": "Invalid `from`, or a guest merged into itself"},
        429: {"description": "Rate limited: a merge costs one token per moved event"},
        503: {"description": "Broker unavailable (see Retry-After); repeating is safe"},
    },
    summary="Merge a guest's progress into an account (API key)",
)
async def merge_guest(
    request: Request,
    userId: UserId,
    body: Annotated[MergeRequest, Body(examples=[{"from": "guest-7f3a"}])],
    authorization: Authorization = None,
) -> MergeResponse:
    """Send the guest's events again under the account; the guest is left reset, pointing here.

    One call moves at most `PROGRESS_MAX_EVENTS_PER_REQUEST` events (each costs the account
    and the tenant one token) and answers `remaining`; call again until it is 0. Idempotent:
    an event already in the account (under the same eventId) counts once, and merging again
    moves only what the guest received since. Once nothing remains, `GET` of the guest
    answers `mergedInto`. The answer lists the moved events and the account's token.
    """
    principal = await authorized(request, authorization, "write", userId, charge=False)
    if not principal.is_api_key:
        raise ApiError(403, "forbidden", "merging users takes a tenant API key")
    context = context_of(request)
    for user in (userId, body.guest):
        await refuse_erased(context, principal.tenant_id, user)
    try:
        result = await context.merge.merge(
            principal.tenant_id,
            userId,
            body.guest,
            limit=context.max_events_per_request,
            charge=lambda moved, cost: charge_derived(context, principal.tenant_id, moved, cost),
            now=context.clock.now(),
            request_id=request.state.request_id,
        )
    except MergeRefused as refused:
        raise ApiError(422, "merge_refused", str(refused), field="from") from None
    tokens = await context.consistency.tokens(result.moved)
    return MergeResponse(
        accepted=len(result.moved),
        rejected=0,
        results=[EventResult(eventId=e.event_id, status="accepted") for e in result.moved],
        consistencyToken=tokens.get((principal.tenant_id, userId)),
        remaining=result.remaining,
    )


class ImportRequest(BaseModel):
    """`POST /v1/users/{userId}/import`: a saved state in the snapshot's own shape."""

    model_config = ConfigDict(extra="forbid")

    state: dict[str, Any] = Field(
        description="Items (status, score, positions, watch time, quiz, rating, schedule, "
        "interactions, extensions), courses, onboarding, activePathId: as `snapshot` shows them."
    )
    asOf: AwareDatetime | None = Field(
        default=None,
        description="When the state was saved; the time of derived events that have none "
        "of their own (default: now).",
    )


@router.post(
    "/{userId}/import",
    status_code=202,
    response_model=WriteResponse,
    response_model_exclude_none=True,
    responses={
        401: {"description": "Missing or invalid credential"},
        403: {"description": "Not an API key with the `write` scope"},
        410: {"description": "The user was erased (code `erased`)"},
        413: {"description": "The state derives more than 500 events (split it); nothing stored"},
        422: {"description": "The state's shape is wrong (the field is named); nothing stored"},
        429: {"description": "Rate limited: an import costs one token per derived event"},
        503: {"description": "Broker unavailable (see Retry-After); importing again is safe"},
    },
    summary="Import a legacy saved state as events (API key)",
)
async def import_state(
    request: Request,
    userId: UserId,
    body: Annotated[
        ImportRequest,
        Body(
            examples=[
                {
                    "state": {
                        "items": {
                            "ch-1": {"status": "completed", "completedAt": "2026-11-01T10:00:00Z"}
                        }
                    }
                }
            ]
        ),
    ],
    authorization: Authorization = None,
) -> WriteResponse:
    """Derive events from the state, with ids fixed per user, item and field, and submit them.

    Importing the same state again changes nothing; a later real event wins by the usual
    rules. Each derived event is validated like any other and answered for in `results`.
    A state deriving more than `PROGRESS_MAX_EVENTS_PER_REQUEST` events is a 413 (split its
    items over several imports: the ids do not change); each derived event costs one token.
    """
    principal = await authorized(request, authorization, "write", userId, charge=False)
    if not principal.is_api_key:
        raise ApiError(403, "forbidden", "importing state takes a tenant API key")
    context = context_of(request)
    await refuse_erased(context, principal.tenant_id, userId)
    try:
        derived = events_from_state(
            parse_state(body.state), user_id=userId, as_of=body.asOf or context.clock.now()
        )
    except ContractViolation as violation:
        raise ApiError(422, "invalid_state", str(violation), field=violation.field) from None
    check_batch_size(context, len(derived), field="state")
    charge_derived(context, principal.tenant_id, {userId: len(derived)})
    return await write_events(
        context,
        principal.tenant_id,
        [Submission(userId, raw) for raw in derived],
        request.state.request_id,
    )
