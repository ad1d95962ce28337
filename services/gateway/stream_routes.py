"""`GET /v1/users/{userId}/progress/stream`: a user's new events as Server-Sent Events."""

from __future__ import annotations

import re
from contextlib import ExitStack
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from services.gateway.errors import ApiError
from services.gateway.event_stream import EventStreamResponse
from services.gateway.in_flight import release_slot
from services.gateway.live_sync import live_messages
from services.gateway.progress_routes import Authorization, UserId, authorized, context_of
from services.gateway.writes import refuse_erased

__all__ = ["router"]

router = APIRouter(prefix="/v1/users", tags=["progress"])

_CURSOR = re.compile(r"[0-9]{1,20}")
"""A cursor as reads return it (the read's `since` takes the same)."""

_STREAM_EXAMPLE = (
    ": keep-alive\n\n"
    'id: 42\nevent: events\ndata: {"events":[{"eventId":"e-1","type":"content.progressed",'
    '"...":"..."}],"cursor":"42"}\n\n'
    'event: closed\ndata: {"reason": "token_expired"}\n\n'
)


def _cursor(since: str | None, last_event_id: str | None) -> int | None:
    """The cursor to resume after: `Last-Event-ID` first (a reconnect), else `since`."""
    value, field = (last_event_id, "Last-Event-ID") if last_event_id else (since, "since")
    if value is None:
        return None
    if not _CURSOR.fullmatch(value):
        raise ApiError(
            400,
            "invalid_cursor",
            f"{field} must be a cursor from this API (digits, as a read or a stream's id "
            "returned it)",
            field=field,
        )
    return int(value)


@router.get(
    "/{userId}/progress/stream",
    response_class=EventStreamResponse,
    status_code=200,
    responses={
        200: {
            "description": "An event stream until one of the closing reasons (docs/live-sync.md)",
            "content": {"text/event-stream": {"example": _STREAM_EXAMPLE}},
        },
        400: {"description": "`since` or `Last-Event-ID` is not a cursor"},
        401: {"description": "Missing, invalid or expired credential"},
        403: {"description": "Another user's token, or a key without `read`"},
        410: {"description": "The user was erased (code `erased`)"},
        429: {"description": "Too many open streams of this user or process (see Retry-After)"},
        503: {"description": "Database unavailable, or the gateway is shutting down"},
    },
    summary="Follow one user's new events as they are stored (Server-Sent Events)",
)
async def stream_progress(
    request: Request,
    userId: UserId,
    since: Annotated[
        str | None,
        Query(description="Cursor to resume after; none: from now."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="The last message's id: resume after it (wins over `since`).",
        ),
    ] = None,
    authorization: Authorization = None,
) -> EventStreamResponse:
    """Each page of events stored after the cursor, as it is stored, oldest first, once.

    Every message has `id: <cursor>`, `event: events` and `data: {"events", "cursor"}`; a
    comment line comes at least every 15 s; the stream ends with `event: closed` and
    `data: {"reason"}` (`token_expired`, `erased`, `merged`, `shutdown`, `lifetime`), and the
    client reconnects with `Last-Event-ID`. The stream holds no request slot.
    """
    principal = await authorized(request, authorization, "read", userId)
    cursor = _cursor(since, last_event_id)
    context = context_of(request)
    await refuse_erased(context, principal.tenant_id, userId)
    key = (principal.tenant_id, userId)
    if cursor is None:
        cursor = (await context.reader.page(key, None, 1)).cursor
    held = ExitStack()
    listener = held.enter_context(context.streams.open(key, cursor))
    release_slot(request.scope)
    return EventStreamResponse(
        live_messages(context, listener, principal.expires_at, context.stream_timing),
        context.stream_timing.send_timeout,
        held.close,
    )
