"""`/v1/users/{userId}/progress`: write a user's events, read their snapshot and log."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request

from services.gateway.auth import authenticate, require
from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.schemas import EventResult, ProgressPage, UserWriteRequest, WriteResponse
from shared.adapters.errors import BrokerUnavailable
from shared.adapters.metrics import GATEWAY_EVENTS
from shared.domain import (
    ContractViolation,
    RecordedEvent,
    Snapshot,
    is_valid_id,
    new_reset_event,
    validate_event,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/users", tags=["progress"])

RETRY_AFTER_SECONDS = 5

UserId = Annotated[str, Path(min_length=1, max_length=128, description="The user's id.")]
Authorization = Annotated[str | None, Header(description="Bearer API key or user token.")]


def _context(request: Request) -> GatewayContext:
    context: GatewayContext = request.app.state.context
    return context


def _check_user_id(user_id: str) -> None:
    if not is_valid_id(user_id):
        raise ApiError(
            422, "invalid_user_id", "userId must be 1-128 printable characters", field="userId"
        )


def _event_type(raw: object) -> str:
    kind = raw.get("type") if isinstance(raw, dict) else None
    return kind if isinstance(kind, str) and len(kind) <= 32 else "unknown"


async def _publish(context: GatewayContext, events: list[RecordedEvent], request_id: str) -> None:
    """Publish and count; a broker that does not acknowledge in time becomes a 503."""
    try:
        await context.publisher.publish(events, request_id)
    except BrokerUnavailable as error:
        for event in events:
            GATEWAY_EVENTS.labels("unavailable", event.type).inc()
        raise ApiError(
            503,
            "broker_unavailable",
            "the event broker did not acknowledge in time; some events may have been stored. "
            "Resend the whole batch: events are idempotent by eventId.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from error
    for event in events:
        GATEWAY_EVENTS.labels("accepted", event.type).inc()


@router.put(
    "/{userId}/progress",
    status_code=202,
    response_model=WriteResponse,
    response_model_exclude_none=True,
)
async def write_progress(
    request: Request, userId: UserId, body: UserWriteRequest, authorization: Authorization = None
) -> WriteResponse:
    """Validate each event, publish the accepted ones, answer once the broker acknowledged."""
    context = _context(request)
    principal = await authenticate(authorization, context.tenants)
    _check_user_id(userId)
    require(principal, "write", userId)
    now = datetime.now(UTC)
    results: list[EventResult] = []
    accepted: list[RecordedEvent] = []
    for raw in body.events:
        try:
            event = validate_event(raw, now=now)
        except ContractViolation as violation:
            event_id = raw.get("eventId") if isinstance(raw, dict) else None
            results.append(
                EventResult(
                    eventId=event_id if isinstance(event_id, str) else None,
                    status="rejected",
                    error=str(violation),
                )
            )
            GATEWAY_EVENTS.labels("rejected", _event_type(raw)).inc()
            continue
        recorded = RecordedEvent(
            tenant_id=principal.tenant_id, user_id=userId, received_at=now, event=event
        )
        accepted.append(recorded)
        results.append(EventResult(eventId=recorded.event_id, status="accepted"))
    await _publish(context, accepted, request.state.request_id)
    return WriteResponse(
        accepted=len(accepted), rejected=len(results) - len(accepted), results=results
    )


@router.get("/{userId}/progress", response_model=ProgressPage)
async def read_progress(
    request: Request,
    userId: UserId,
    since: Annotated[str | None, Query(max_length=32, description="Cursor; 0 = start.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    authorization: Authorization = None,
) -> ProgressPage:
    """The user's snapshot and, with `since`, the events stored after that cursor."""
    context = _context(request)
    principal = await authenticate(authorization, context.tenants)
    _check_user_id(userId)
    require(principal, "read", userId)
    key = (principal.tenant_id, userId)
    stored = (await context.snapshots.load_many([key])).get(key)
    snapshot = stored.snapshot if stored else Snapshot.empty(*key)
    head = stored.seq if stored else 0
    events: list[dict[str, Any]] = []
    cursor, has_more = head, False
    if since is not None:
        if not since.isdigit():
            raise ApiError(
                422, "invalid_cursor", "since must be a cursor from a previous read", field="since"
            )
        after = min(int(since), head)
        page = await context.events.page(key, after, head, limit + 1)
        has_more = len(page) > limit
        page = page[:limit]
        events = [json.loads(entry.event.to_json()) for entry in page]
        cursor = page[-1].seq if has_more else head
    return ProgressPage(
        snapshot=snapshot.to_api(), events=events, cursor=str(cursor), hasMore=has_more
    )


@router.delete(
    "/{userId}/progress",
    status_code=202,
    response_model=WriteResponse,
    response_model_exclude_none=True,
)
async def reset_progress(
    request: Request, userId: UserId, authorization: Authorization = None
) -> WriteResponse:
    """Append a `progress.reset` event: the snapshot starts empty, the history stays."""
    context = _context(request)
    principal = await authenticate(authorization, context.tenants)
    _check_user_id(userId)
    require(principal, "write", userId)
    now = datetime.now(UTC)
    reset = new_reset_event(event_id=f"reset-{uuid.uuid4()}", occurred_at=now, client_id="gateway")
    recorded = RecordedEvent(
        tenant_id=principal.tenant_id, user_id=userId, received_at=now, event=reset
    )
    await _publish(context, [recorded], request.state.request_id)
    return WriteResponse(
        accepted=1, rejected=0, results=[EventResult(eventId=recorded.event_id, status="accepted")]
    )
