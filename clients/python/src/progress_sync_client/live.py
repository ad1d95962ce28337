"""Following a user's live stream (`GET …/progress/stream`): resume, back off, renew tokens.

The stream is Server-Sent Events: `id: <cursor>`, `event: events`, `data: {"events",
"cursor"}`, comment lines to keep it open, and `event: closed` with a reason at its end.
Whatever ends a connection, the next one resumes with `Last-Event-ID` = the last id seen,
so nothing is missed and nothing comes twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from .credentials import Credentials
from .errors import ApiError, StreamEnded
from .models import Change
from .policy import decide
from .retry import Backoff
from .sending import user_path

__all__ = ["READ_TIMEOUT_SECONDS", "follow"]

log = logging.getLogger("progress_sync_client")

READ_TIMEOUT_SECONDS = 45.0
"""The server writes at least every 15 s; three times that in silence is a dead connection."""
_FINAL = frozenset({"erased", "merged"})
"""Closing reasons after which reconnecting cannot help."""


@dataclass
class _Message:
    event: str = "message"
    data: list[str] = field(default_factory=list)
    id: str | None = None


async def _messages(lines: AsyncIterator[str]) -> AsyncIterator[_Message]:
    """The messages of an event stream's lines; comments are skipped."""
    message = _Message()
    async for line in lines:
        if not line:
            if message.data:
                yield message
            message = _Message()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            message.event = value
        elif name == "data":
            message.data.append(value)
        elif name == "id":
            message.id = value


async def follow(
    http: httpx.AsyncClient,
    credentials: Credentials,
    user_id: str,
    since: str | None,
    backoff: Backoff,
) -> AsyncIterator[Change]:
    """Every change of the user from `since` (None: from now) on, reconnecting as needed.

    A dropped connection, a 429 or a 5xx wait as the client policy says (Retry-After, else
    `backoff`), then resume; a 401, and a stream closed for `token_expired`, ask the token
    provider for a new token (a second 401 in a row is raised); `shutdown` and `lifetime`
    reconnect at once.

    Raises:
        StreamEnded: The stream closed for `erased` or `merged`: following it is over.
        ApiError: Any other refusal (400, 403, 410, a second 401).
    """
    last_id, renewed = since, False
    path = user_path(user_id, "progress/stream")
    timeout = httpx.Timeout(http.timeout.connect, read=READ_TIMEOUT_SECONDS)
    while True:
        headers = {"Authorization": await credentials.header(), "Accept": "text/event-stream"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        reason: str | None = None
        try:
            async with http.stream("GET", path, headers=headers, timeout=timeout) as response:
                status = response.status_code
                decision = decide(
                    status, response.headers.get("Retry-After"), datetime.now(UTC), renewed=renewed
                )
                if decision.action == "renew_token" and await credentials.refresh():
                    renewed = True
                    continue
                if decision.action == "retry":
                    await response.aread()
                    await _wait(backoff, user_id, f"HTTP {status}", decision.retry_after)
                    continue
                if response.is_error:
                    await response.aread()
                    raise ApiError.from_response(response)
                renewed = False
                async for message in _messages(response.aiter_lines()):
                    if message.event == "closed":
                        reason = str(json.loads("\n".join(message.data)).get("reason"))
                        break
                    if message.event == "events":
                        change = Change.model_validate_json("\n".join(message.data))
                        backoff.reset()
                        last_id = change.cursor
                        yield change
        except httpx.TransportError as error:
            await _wait(backoff, user_id, f"{type(error).__name__}: {error}")
            continue
        if reason in _FINAL:
            raise StreamEnded(user_id, reason or "")
        if reason == "token_expired":
            await credentials.refresh()
        elif reason is None:
            await _wait(backoff, user_id, "the stream ended without a closed message")
        log.info("progress-sync: stream of %s closed (%s); resuming", user_id, reason)


async def _wait(backoff: Backoff, user_id: str, why: str, retry_after: float | None = None) -> None:
    delay = backoff.next_delay(retry_after)
    log.warning("progress-sync: stream of %s: %s; reconnecting in %.1fs", user_id, why, delay)
    await asyncio.sleep(delay)
