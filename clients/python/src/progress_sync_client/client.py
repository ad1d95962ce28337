"""`AsyncProgressClient`: track events through the outbox, read progress, backend calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from .builders import EventBuilder
from .contract import ProgressEvent
from .credentials import Credentials, TokenProvider
from .errors import ApiError, NeedsApiKey, NoOutbox, PagingStopped
from .event_ids import new_event_id
from .flusher import MAX_BATCH_EVENTS, Flusher
from .live import follow
from .models import Change, CourseView, Progress, ProgressPage, WriteResult
from .outbox import Outbox
from .reports import EventState, FlushReport, OnDropped, OnStatus, SyncStatus
from .retry import Backoff
from .sending import user_path

__all__ = ["AsyncProgressClient"]

log = logging.getLogger("progress_sync_client")

_EVENT = TypeAdapter[ProgressEvent](ProgressEvent)
MAX_WAIT_MS = 10_000
"""The server's upper bound on a read-your-writes wait."""
MAX_PAGES = 1_000
"""Pages one `get_progress` reads at most (500,000 events at the server's default page)."""


class AsyncProgressClient:
    """A Progress Sync client for asyncio code.

    Args:
        base_url: The gateway, e.g. `http://127.0.0.1:8000`.
        api_key: A tenant API key (backends, jobs); or else
        token_provider: a callable (sync or async) returning a user token, called again once
            when the server answers 401.
        outbox: The SQLite file that holds tracked events until the server answered; needed
            by `track()`. Several processes may name the same file.
        client_id: Stamped on every event built by `events` (the device, app or job).
        timeout: Seconds for one HTTP request.
        close_timeout: Seconds `close()` (and leaving `async with`) spends flushing.
        max_batch_events: Events per request (at most the server's 500).
        linger: Seconds the flusher waits after a `track()` to gather a batch.
        lease_seconds: How long a batch being sent stays this process's; after a crash,
            other processes (or the next start) send it again once the lease expired.
        on_dropped: Called with each event the server refused for good or that belonged to
            an erased user; events are never dropped silently.
        on_status: Called with each new `SyncStatus`.
        transport: An httpx transport (tests).
        backoff: The retry schedule (tests).
        max_pages: Pages one `get_progress(since=...)` reads at most; a server that still
            says `hasMore` after them (or repeats its cursor) is a bad server, and the read
            raises `PagingStopped` rather than growing without end.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token_provider: TokenProvider | None = None,
        outbox: str | Path | None = None,
        client_id: str = "python-sdk",
        timeout: float = 10.0,
        close_timeout: float = 10.0,
        max_batch_events: int = MAX_BATCH_EVENTS,
        linger: float = 0.02,
        lease_seconds: float = 60.0,
        on_dropped: OnDropped | None = None,
        on_status: OnStatus | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: Backoff | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        if not 1 <= max_batch_events <= MAX_BATCH_EVENTS:
            raise ValueError(f"max_batch_events must be 1-{MAX_BATCH_EVENTS}")
        self.events = EventBuilder(client_id)
        """Builders of the ten event types, stamped with this client's `client_id`."""
        self._credentials = Credentials(api_key, token_provider)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        self._outbox = Outbox(outbox, lease_seconds=lease_seconds) if outbox is not None else None
        self._close_timeout = close_timeout
        self._flusher = (
            Flusher(
                self._outbox,
                self._http,
                self._credentials,
                max_events=max_batch_events,
                linger=linger,
                backoff=backoff,
                on_dropped=on_dropped,
                on_status=on_status,
            )
            if self._outbox is not None
            else None
        )
        self._started = False
        self._max_pages = max_pages

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start the background flusher.

        Events left in the outbox by an earlier run (or a killed process) are sent first.
        """
        if self._flusher is not None and not self._started:
            self._flusher.start()
            self._flusher.wake()
        self._started = True

    async def track(self, user_id: str, *events: ProgressEvent) -> None:
        """Queue one user's events; returns once they are committed to the outbox file.

        The flusher sends them in the background. Tracking an event again (same user and
        eventId) while it is queued changes nothing; after it was sent, the server ignores it.

        Raises:
            NoOutbox: If the client was made without `outbox`.
        """
        await asyncio.to_thread(self.queue, user_id, events)
        if self._flusher is not None:
            self._flusher.wake()

    def queue(self, user_id: str, events: tuple[ProgressEvent, ...] | list[ProgressEvent]) -> int:
        """Commit events to the outbox without waking the flusher (blocking; thread-safe).

        Returns:
            How many were new to the outbox.
        """
        if self._outbox is None:
            raise NoOutbox("this client has no outbox: pass outbox=PATH to track events")
        rows = [(event.event_id, _EVENT.dump_json(event).decode()) for event in events]
        return self._outbox.add(user_id, rows)

    def wake(self) -> None:
        """Tell the flusher that events were queued (on the loop's thread)."""
        if self._flusher is not None:
            self._flusher.wake()

    def resume(self) -> None:
        """Leave the error state (after fixing what the server refused) and send again."""
        if self._flusher is not None:
            self._flusher.resume()

    @property
    def status(self) -> SyncStatus:
        """The flusher's current state."""
        return self._flusher.status if self._flusher is not None else SyncStatus("idle")

    def pending(self, user_id: str | None = None) -> int:
        """Events in the outbox file (of every process sharing it), or of one user."""
        return self._outbox.pending(user_id) if self._outbox is not None else 0

    def discard_pending(self, user_id: str) -> list[ProgressEvent]:
        """Drop a user's queued events unsent (sign-out on a shared computer); returns them.

        Events of that user in a request already out may still be stored by the server.
        They are not reported to `on_dropped`: the app asked for this.
        """
        if self._outbox is None:
            return []
        discarded = [_EVENT.validate_json(e.body) for e in self._outbox.drop_user(user_id)]
        log.info("progress-sync: discarded %d queued events of user %s", len(discarded), user_id)
        return discarded

    def event_state(self, user_id: str, event_id: str) -> EventState | None:
        """Where one tracked event is: `pending`, `sending`, `synced` or `rejected` (and why).

        None if the outbox never held it, it was discarded, or it settled so long ago that the
        file forgot it (the latest `outbox.SETTLED_KEPT` are kept).
        """
        return self._outbox.state(user_id, event_id) if self._outbox is not None else None

    def consistency_token(self, user_id: str) -> str | None:
        """The token of this client's latest write for the user, for `wait_for`."""
        return self._flusher.tokens.get(user_id) if self._flusher is not None else None

    async def flush(self, timeout: float = 10.0) -> FlushReport:  # noqa: ASYNC109
        """Send what is queued, waiting at most `timeout` seconds (retries included)."""
        drained = True
        if self._flusher is not None:
            if not self._started:
                await self.start()
            drained = await self._flusher.flush(timeout)
        return FlushReport(drained, await asyncio.to_thread(self.pending), self.status)

    async def close(self, timeout: float | None = None) -> FlushReport:  # noqa: ASYNC109
        """Flush for at most `timeout` seconds (default `close_timeout`), then stop.

        What is still queued stays in the outbox file and is sent by the next client that
        opens it; the report (and a log line) says how many events that is.
        """
        flushed = await self.flush(self._close_timeout if timeout is None else timeout)
        if self._flusher is not None:
            await self._flusher.stop()
        report = FlushReport(flushed.drained, await asyncio.to_thread(self.pending), self.status)
        if report.queued:
            log.warning("progress-sync: %d events stay queued in the outbox", report.queued)
        if self._outbox is not None:
            self._outbox.close()
        await self._http.aclose()
        return report

    async def get_progress(
        self,
        user_id: str,
        *,
        since: str | None = None,
        wait_for: str | None = None,
        wait_ms: int | None = None,
    ) -> Progress:
        """A user's snapshot and course views; with `since`, every event stored after it.

        Pages through the log with the cursor (`since="0"`: from the start) until the server
        says there is no more. With `wait_for` (a consistency token, e.g.
        `consistency_token(user)`), the server answers once that write is reflected, or after
        `wait_ms` (server default 2000, at most 10000) with `consistent=False`.

        Raises:
            ApiError: If the server refuses the read.
            PagingStopped: If the server repeats its cursor while saying `hasMore`, or more
                than `max_pages` pages follow: the events read so far are not returned.
        """
        params = _wait_params(wait_for, wait_ms)
        if since is not None:
            params["since"] = since
        response = await self._request("GET", user_path(user_id, "progress"), params=params)
        consistent = _header_flag(response.headers.get("Progress-Consistent"))
        page = ProgressPage.model_validate_json(response.content)
        events = list(page.events)
        pages, cursor = 1, since
        while since is not None and page.has_more:
            if page.cursor == cursor or pages >= self._max_pages:
                log.error(
                    "progress-sync: stopped paging user %s after %d pages at cursor %s",
                    user_id,
                    pages,
                    page.cursor,
                )
                raise PagingStopped(user_id, pages, page.cursor, repeated=page.cursor == cursor)
            cursor = page.cursor
            response = await self._request(
                "GET", user_path(user_id, "progress"), params={"since": cursor}
            )
            page = ProgressPage.model_validate_json(response.content)
            events.extend(page.events)
            pages += 1
        return Progress(
            snapshot=page.snapshot,
            events=events,
            cursor=page.cursor,
            course_views=page.course_views,
            consistent=consistent,
            merged_into=page.merged_into,
        )

    async def changes(
        self, user_id: str, *, since: str | None = None, backoff: Backoff | None = None
    ) -> AsyncIterator[Change]:
        """Each change of the user as it is stored: `async for change in client.changes(u)`.

        Follows `GET …/progress/stream` from `since` (a cursor: `"0"` for the whole log,
        None for from now), each event once, oldest first. A dropped connection, a 429 or a
        5xx are retried as the client policy says (Retry-After, else 1, 5, 15, 60 s with
        jitter) and resumed from the last change's cursor, so nothing is missed or repeated;
        an expired user token is renewed through the token provider. Stop by breaking out
        of the loop.

        Raises:
            StreamEnded: The user was erased, or was a guest merged into an account.
            ApiError: Any other refusal (400, 403, 410, or a 401 a new token did not cure).
        """
        async for change in follow(
            self._http, self._credentials, user_id, since, backoff or Backoff()
        ):
            yield change

    async def course(
        self,
        user_id: str,
        course_id: str,
        *,
        wait_for: str | None = None,
        wait_ms: int | None = None,
    ) -> CourseView:
        """The user's view of one catalog course (counts, groups, certificate).

        With `wait_for` (a consistency token), the server answers once that write is
        reflected, or after `wait_ms` (server default 2000, at most 10000).

        Raises:
            ApiError: 404 if the course is not in the catalog; any other refusal.
        """
        path = user_path(user_id, "courses/") + quote(course_id, safe="")
        response = await self._request("GET", path, params=_wait_params(wait_for, wait_ms))
        return CourseView.model_validate_json(response.content)

    async def reset_progress(
        self,
        user_id: str,
        *,
        course_id: str | None = None,
        content_ids: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        """Reset a user's progress now (all of it, a catalog course's items, or named items).

        `idempotency_key` becomes the reset's eventId (one is made if not given, and kept for
        the retry of this call): sending the same reset again never wipes progress made in
        between. The history stays in the log.

        Raises:
            ApiError: 404 `course_not_found` for a course not in the catalog; any refusal.
        """
        params: dict[str, str | list[str]] = {}
        if course_id is not None:
            params["courseId"] = course_id
        if content_ids is not None:
            params["contentId"] = content_ids
        headers = {"Idempotency-Key": idempotency_key or new_event_id()}
        response = await self._request(
            "DELETE", user_path(user_id, "progress"), params=params, headers=headers
        )
        return WriteResult.model_validate_json(response.content)

    async def merge_guest(self, user_id: str, guest_id: str) -> WriteResult:
        """Move a guest's events into an account's log (API key: a backend call; idempotent).

        The server moves at most 500 events per call and says how many remain; this calls
        again until none do, and returns the results of all calls together.

        Raises:
            NeedsApiKey: If this client signs in with user tokens (the server would say 403).
            ApiError: If the server refuses.
        """
        self._need_api_key("merge_guest")
        merged: WriteResult | None = None
        while True:
            response = await self._request(
                "POST", user_path(user_id, "merge"), json={"from": guest_id}
            )
            answer = WriteResult.model_validate_json(response.content)
            progressed = merged is None or answer.remaining < merged.remaining
            merged = answer if merged is None else merged.followed_by(answer)
            if answer.remaining == 0 or not progressed:
                return merged

    async def import_state(
        self, user_id: str, state: dict[str, Any], *, as_of: datetime | None = None
    ) -> WriteResult:
        """Import a user's legacy progress, shaped like a snapshot (API key).

        The server derives events with ids from user, item and field, so importing the same
        state twice changes nothing. Times missing in the state become `as_of` (default: now).

        A state deriving more events than one request may (413 `too_many_events`) is
        imported in halves of its items (the derived ids do not change).

        Raises:
            NeedsApiKey: If this client signs in with user tokens (the server would say 403).
            ApiError: If the server refuses.
        """
        self._need_api_key("import_state")
        body: dict[str, Any] = {"state": state}
        if as_of is not None:
            body["asOf"] = as_of.isoformat()
        try:
            response = await self._request("POST", user_path(user_id, "import"), json=body)
        except ApiError as error:
            items = state.get("items")
            if error.code != "too_many_events" or not isinstance(items, dict) or len(items) < 2:
                raise
            names = list(items)
            half = len(names) // 2
            first = {**state, "items": {name: items[name] for name in names[:half]}}
            rest = {"items": {name: items[name] for name in names[half:]}}
            earlier = await self.import_state(user_id, first, as_of=as_of)
            return earlier.followed_by(await self.import_state(user_id, rest, as_of=as_of))
        return WriteResult.model_validate_json(response.content)

    def _need_api_key(self, call: str) -> None:
        """Refuse a backend-only call on a client that holds user tokens, before any request."""
        if not self._credentials.is_api_key:
            raise NeedsApiKey(f"{call} needs a tenant API key: call it from your backend")

    async def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **options: Any
    ) -> httpx.Response:
        """Send one direct call with credentials, refreshing a user token once on 401."""
        sent = {**(headers or {}), "Authorization": await self._credentials.header()}
        response = await self._http.request(method, path, headers=sent, **options)
        if response.status_code == 401 and await self._credentials.refresh():
            sent["Authorization"] = await self._credentials.header()
            response = await self._http.request(method, path, headers=sent, **options)
        if response.is_error:
            raise ApiError.from_response(response)
        return response


def _wait_params(wait_for: str | None, wait_ms: int | None) -> dict[str, str]:
    """The read-your-writes query: `waitFor`, and `waitMs` within the server's bound."""
    params: dict[str, str] = {}
    if wait_for is not None:
        params["waitFor"] = wait_for
        if wait_ms is not None:
            params["waitMs"] = str(min(max(wait_ms, 0), MAX_WAIT_MS))
    return params


def _header_flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() == "true"
