"""What a live stream says: the user's log after its cursor, keep-alives, and why it ends.

Each page of events is one Server-Sent Events message, `id: <cursor>`, `event: events`,
`data: {"events": [...], "cursor": "..."}`, read with the progress read's own use case
(`ProgressReader.page`), so a stream serves exactly what `GET …/progress?since=` serves.
The stream reads when a change announcement wakes it, or the process's sweep finds its user
past its cursor (an announcement may be lost), writes a comment when it has been quiet for
`keep_alive` seconds, and ends with `event: closed`, `data: {"reason": ...}`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator

from services.gateway.context import GatewayContext
from services.gateway.live_streams import Listener, StreamTiming
from shared.adapters.logs import get_logger
from shared.adapters.metrics import (
    GATEWAY_STREAM_MESSAGES,
    GATEWAY_STREAM_READ_FAILURES,
    GATEWAY_STREAMS_CLOSED,
)
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.reading import ProgressPage
from shared.service_layer.user_keys import UserKey

__all__ = ["KEEP_ALIVE", "closed_message", "events_message", "live_messages"]

log = get_logger(__name__)

KEEP_ALIVE = b": keep-alive\n\n"
"""A comment line: clients ignore it, proxies see the connection is alive."""
PAGE_SIZE = 500
"""Most events in one message (the largest page of the read)."""


def events_message(page: ProgressPage) -> bytes:
    """One page of events as an SSE message whose id is the page's cursor.

    Stored events encode as compact JSON (`RecordedEvent.to_json`), so they never hold a
    line break and need no re-encoding here.
    """
    cursor = str(page.cursor).encode()
    events = b",".join(entry.event.to_json() for entry in page.entries)
    data = b'{"events":[' + events + b'],"cursor":"' + cursor + b'"}'
    return b"id: " + cursor + b"\nevent: events\ndata: " + data + b"\n\n"


def closed_message(reason: str) -> bytes:
    """The last message of a stream: why it ends (the client reconnects from its last id)."""
    return b"event: closed\ndata: " + json.dumps({"reason": reason}).encode() + b"\n\n"


async def _closing_reason(
    context: GatewayContext, listener: Listener, expires_at: float | None, end_of_life: float
) -> str | None:
    """Why the stream must end now, or None: shutdown, erased, merged, token, lifetime.

    While the database is out, erased and merged wait for the next check (logged, counted).
    """
    if listener.ending is not None:
        return listener.ending
    try:
        if await context.ingest.erased(*listener.key):
            return "erased"
        if await context.merge.merged_into(*listener.key) is not None:
            return "merged"
    except StoreUnavailable as error:
        log.warning("stream_check_failed", tenant=listener.key[0], error=str(error))
        GATEWAY_STREAM_READ_FAILURES.inc()
    if expires_at is not None and context.clock.now().timestamp() >= expires_at:
        return "token_expired"
    if time.monotonic() >= end_of_life:
        return "lifetime"
    return None


async def _page_after(context: GatewayContext, key: UserKey, cursor: int) -> ProgressPage | None:
    """The user's events after `cursor`; None (logged, counted) while the database is out."""
    try:
        return await context.reader.page(key, cursor, PAGE_SIZE)
    except StoreUnavailable as error:
        log.warning("stream_read_failed", tenant=key[0], cursor=cursor, error=str(error))
        GATEWAY_STREAM_READ_FAILURES.inc()
        return None


async def live_messages(
    context: GatewayContext,
    listener: Listener,
    expires_at: float | None,
    timing: StreamTiming,
) -> AsyncGenerator[bytes]:
    """The stream of one user from `listener.cursor` on, until a closing reason holds.

    It reads when woken (an announcement, or `sweep_streams` finding the user's head past
    its cursor) and at its deadlines. `expires_at` is the user token's `exp` (None for an
    API key). A database outage costs a read, not the stream: it is logged, counted, and
    tried again at the next wake-up.
    """
    key: UserKey = listener.key
    cursor = listener.cursor
    end_of_life = time.monotonic() + timing.lifetime
    quiet_until = time.monotonic() + timing.keep_alive
    yield KEEP_ALIVE
    while True:
        reason = await _closing_reason(context, listener, expires_at, end_of_life)
        if reason is not None:
            log.info("stream_closed", tenant=key[0], reason=reason, cursor=cursor)
            GATEWAY_STREAMS_CLOSED.labels(reason).inc()
            GATEWAY_STREAM_MESSAGES.labels("closed").inc()
            yield closed_message(reason)
            return
        page = await _page_after(context, key, cursor)
        if page is not None:
            # A head past the cursor without entries (nothing there is served) moves it too,
            # so the sweep does not wake this stream for it again.
            cursor = listener.cursor = max(cursor, page.cursor)
        if page is not None and page.entries:
            GATEWAY_STREAM_MESSAGES.labels("events").inc()
            yield events_message(page)
            quiet_until = time.monotonic() + timing.keep_alive
            if page.has_more:
                continue
        deadline = end_of_life
        if expires_at is not None:
            deadline = min(
                deadline, time.monotonic() + expires_at - context.clock.now().timestamp()
            )
        while not await listener.wait(min(deadline, quiet_until) - time.monotonic()):
            if time.monotonic() >= quiet_until:
                GATEWAY_STREAM_MESSAGES.labels("keep_alive").inc()
                yield KEEP_ALIVE
                quiet_until = time.monotonic() + timing.keep_alive
            if time.monotonic() >= deadline:
                break
