"""`AsyncProgressClient`: track events through the outbox, read progress, backend calls."""

from __future__ import annotations

import asyncio
import logging
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
from .errors import ApiError, NoOutbox
from .flusher import MAX_BATCH_EVENTS, Flusher
from .models import CourseView, Progress, ProgressPage, WriteResult
from .outbox import Outbox
from .reports import FlushReport, OnDropped, OnStatus, SyncStatus
from .retry import Backoff
from .sending import user_path

__all__ = ["AsyncProgressClient"]

log = logging.getLogger("progress_sync_client")

_EVENT = TypeAdapter[ProgressEvent](ProgressEvent)
MAX_WAIT_MS = 10_000
"""The server's upper bound on a read-your-writes wait."""


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
        """
        params: dict[str, str] = {}
        if wait_for is not None:
            params["waitFor"] = wait_for
            if wait_ms is not None:
                params["waitMs"] = str(min(max(wait_ms, 0), MAX_WAIT_MS))
        if since is not None:
            params["since"] = since
        response = await self._request("GET", user_path(user_id, "progress"), params=params)
        consistent = _header_flag(response.headers.get("Progress-Consistent"))
        page = ProgressPage.model_validate_json(response.content)
        events = list(page.events)
        while since is not None and page.has_more:
            response = await self._request(
                "GET", user_path(user_id, "progress"), params={"since": page.cursor}
            )
            page = ProgressPage.model_validate_json(response.content)
            events.extend(page.events)
        return Progress(
            snapshot=page.snapshot,
            events=events,
            cursor=page.cursor,
            course_views=page.course_views,
            consistent=consistent,
            merged_into=page.merged_into,
        )

    async def course_view(
        self, user_id: str, course_id: str, *, wait_for: str | None = None
    ) -> CourseView:
        """The user's view of one catalog course (counts, groups, certificate).

        Raises:
            ApiError: 404 if the course is not in the catalog; any other refusal.
        """
        params = {"waitFor": wait_for} if wait_for is not None else {}
        path = user_path(user_id, "courses/") + quote(course_id, safe="")
        response = await self._request("GET", path, params=params)
        return CourseView.model_validate_json(response.content)

    async def merge_guest(self, user_id: str, guest_id: str) -> WriteResult:
        """Move a guest's events into an account's log (API key; idempotent).

        The server moves at most 500 events per call and answers how many remain; this
        calls again until none do, and answers every moved event with the last call's token.

        Raises:
            ApiError: If the server refuses (e.g. 403 with a user token).
        """
        pages: list[WriteResult] = []
        remaining = 1
        while remaining:
            response = await self._request(
                "POST", user_path(user_id, "merge"), json={"from": guest_id}
            )
            pages.append(WriteResult.model_validate_json(response.content))
            remaining = int(response.json().get("remaining", 0))
        return _combined(pages)

    async def import_state(
        self, user_id: str, state: dict[str, Any], *, as_of: datetime | None = None
    ) -> WriteResult:
        """Import a user's legacy progress, shaped like a snapshot (API key).

        The server derives events with ids from user, item and field, so importing the same
        state twice changes nothing. Times missing in the state become `as_of` (default: now).

        A state deriving more events than one request may (413 `too_many_events`) is
        imported in halves of its items (the derived ids do not change).

        Raises:
            ApiError: If the server refuses.
        """
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
            return _combined(
                [
                    await self.import_state(user_id, first, as_of=as_of),
                    await self.import_state(user_id, rest, as_of=as_of),
                ]
            )
        return WriteResult.model_validate_json(response.content)

    async def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Send one direct call with credentials, refreshing a user token once on 401."""
        headers = {"Authorization": await self._credentials.header()}
        response = await self._http.request(method, path, headers=headers, **options)
        if response.status_code == 401 and await self._credentials.refresh():
            headers = {"Authorization": await self._credentials.header()}
            response = await self._http.request(method, path, headers=headers, **options)
        if response.is_error:
            raise ApiError.from_response(response)
        return response


def _header_flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() == "true"


def _combined(parts: list[WriteResult]) -> WriteResult:
    """One answer for a write the server took in parts; the last part's token."""
    return WriteResult(
        accepted=sum(part.accepted for part in parts),
        rejected=sum(part.rejected for part in parts),
        results=[result for part in parts for result in part.results],
        consistency_token=parts[-1].consistency_token,
    )
