"""`ProgressClient`: the async client for synchronous code, on an event loop of its own thread.

`track()` commits to the outbox in the caller's thread and only wakes the flusher, so it is as
fast as in async code; every other call waits for the loop to answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from .builders import EventBuilder
from .client import AsyncProgressClient
from .contract import ProgressEvent
from .models import CourseView, Progress, WriteResult
from .reports import EventState, FlushReport, SyncStatus

__all__ = ["ProgressClient"]

T = TypeVar("T")


class ProgressClient:
    """A Progress Sync client for synchronous code; takes `AsyncProgressClient`'s arguments.

    Use it as a context manager, or call `close()`: leaving flushes for at most
    `close_timeout` seconds and reports what stayed queued in the outbox.
    """

    def __init__(self, base_url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="progress-sync", daemon=True
        )
        self._thread.start()
        try:
            self._client = self._call(_build(base_url, options))
            self._call(self._client.start())
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            raise
        self.events: EventBuilder = self._client.events
        """Builders of the ten event types, stamped with this client's `client_id`."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def track(self, user_id: str, *events: ProgressEvent) -> None:
        """Queue one user's events; returns once they are committed to the outbox file."""
        self._client.queue(user_id, events)
        self._loop.call_soon_threadsafe(self._client.wake)

    def flush(self, timeout: float = 10.0) -> FlushReport:
        """Send what is queued, waiting at most `timeout` seconds."""
        return self._call(self._client.flush(timeout))

    def close(self, timeout: float | None = None) -> FlushReport:
        """Flush (bounded), stop the flusher and the loop; queued events stay in the file."""
        try:
            return self._call(self._client.close(timeout))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    @property
    def status(self) -> SyncStatus:
        """The flusher's current state."""
        return self._client.status

    def pending(self, user_id: str | None = None) -> int:
        """Events in the outbox file, or of one user."""
        return self._client.pending(user_id)

    def discard_pending(self, user_id: str) -> list[ProgressEvent]:
        """See `AsyncProgressClient.discard_pending`."""
        return self._client.discard_pending(user_id)

    def event_state(self, user_id: str, event_id: str) -> EventState | None:
        """See `AsyncProgressClient.event_state`."""
        return self._client.event_state(user_id, event_id)

    def resume(self) -> None:
        """Leave the error state and send again."""
        self._loop.call_soon_threadsafe(self._client.resume)

    def consistency_token(self, user_id: str) -> str | None:
        """The token of this client's latest write for the user."""
        return self._client.consistency_token(user_id)

    def get_progress(
        self,
        user_id: str,
        *,
        since: str | None = None,
        wait_for: str | None = None,
        wait_ms: int | None = None,
    ) -> Progress:
        """See `AsyncProgressClient.get_progress`."""
        return self._call(
            self._client.get_progress(user_id, since=since, wait_for=wait_for, wait_ms=wait_ms)
        )

    def course(
        self,
        user_id: str,
        course_id: str,
        *,
        wait_for: str | None = None,
        wait_ms: int | None = None,
    ) -> CourseView:
        """See `AsyncProgressClient.course`."""
        return self._call(
            self._client.course(user_id, course_id, wait_for=wait_for, wait_ms=wait_ms)
        )

    def reset_progress(
        self,
        user_id: str,
        *,
        course_id: str | None = None,
        content_ids: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        """See `AsyncProgressClient.reset_progress`."""
        return self._call(
            self._client.reset_progress(
                user_id,
                course_id=course_id,
                content_ids=content_ids,
                idempotency_key=idempotency_key,
            )
        )

    def merge_guest(self, user_id: str, guest_id: str) -> WriteResult:
        """See `AsyncProgressClient.merge_guest`."""
        return self._call(self._client.merge_guest(user_id, guest_id))

    def import_state(
        self, user_id: str, state: dict[str, Any], *, as_of: datetime | None = None
    ) -> WriteResult:
        """See `AsyncProgressClient.import_state`."""
        return self._call(self._client.import_state(user_id, state, as_of=as_of))

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()


async def _build(base_url: str, options: dict[str, Any]) -> AsyncProgressClient:
    """Make the async client on the loop's thread, where its tasks will run."""
    return AsyncProgressClient(base_url, **options)
