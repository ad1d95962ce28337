"""The background sender: claims batches from the outbox, sends them, settles the rows.

One asyncio task per client. It follows the integration contract's client policy: batches
within the server's limits (500 events, 1 MiB), halved on 413; Retry-After, else the backoff
schedule, on 429, 5xx and network errors, never dropping an event for them; a per-event
rejection and a 410 are final and reported; one token refresh on 401; any other 4xx stops
the flusher in an error state with the events kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from datetime import UTC, datetime

import httpx

from .credentials import Credentials
from .outbox import Claim, Outbox
from .reports import DroppedEvent, OnDropped, OnStatus, SyncStatus
from .retry import Backoff
from .sending import Accepted, NotAccepted, Outcome, send_events

__all__ = ["MAX_BATCH_BYTES", "MAX_BATCH_EVENTS", "Flusher"]

MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 1_000_000
"""Event bodies per request; the server's limit is 1 MiB for the whole body with its envelope."""

_FLUSH_POLL = 0.25
"""Seconds between a flush's looks at what is left (rows of other processes settle unseen)."""

log = logging.getLogger("progress_sync_client")


class Flusher:
    """Sends what the outbox holds, from a task on the client's event loop."""

    def __init__(
        self,
        outbox: Outbox,
        http: httpx.AsyncClient,
        credentials: Credentials,
        *,
        max_events: int = MAX_BATCH_EVENTS,
        max_bytes: int = MAX_BATCH_BYTES,
        linger: float = 0.02,
        poll_interval: float = 2.0,
        backoff: Backoff | None = None,
        on_dropped: OnDropped | None = None,
        on_status: OnStatus | None = None,
    ) -> None:
        self._outbox, self._http, self._credentials = outbox, http, credentials
        self._cap, self._max_bytes = max_events, max_bytes
        self._linger, self._poll_interval = linger, poll_interval
        self._backoff = backoff or Backoff()
        self._on_dropped, self._on_status = on_dropped, on_status
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._not_before = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_event = asyncio.Event()
        self.status = SyncStatus("idle")
        self.tokens: dict[str, str] = {}
        """The latest consistency token per user, from this client's writes."""

    def start(self) -> None:
        """Start the task (on the running loop)."""
        self._task = asyncio.create_task(self._run(), name="progress-sync-flusher")

    def wake(self) -> None:
        """New events were queued: send them soon (call on the loop's thread)."""
        self._wake.set()

    def resume(self) -> None:
        """Leave the error state and try the queued events again."""
        self._set_status(state="idle", error=None)
        self._wake.set()

    async def flush(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Send until every event queued before the call was answered for, or `timeout` passed.

        Rows another process is sending count too: they are answered for by that process, or
        claimed here once its lease expired (it died). In the error state the flush ends at
        once, since nothing will be sent until `resume()`.

        Returns:
            True if drained; False otherwise (the events stay queued for a later run).
        """
        horizon = await asyncio.to_thread(self._outbox.last_seq)
        deadline = time.monotonic() + timeout
        while True:
            if self.status.state == "error":
                return False
            if await asyncio.to_thread(self._outbox.pending, through=horizon) == 0:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._drained.clear()
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), min(remaining, _FLUSH_POLL))

    async def stop(self, grace: float = 10.0) -> None:
        """Stop the task once a send in flight was answered (at most `grace` seconds).

        A send cut short hands its rows back at once, so other processes sharing the file do
        not wait for the lease; the server may have stored them, and a resend is a no-op.
        """
        if self._task is None:
            return
        self._stopping = True
        self._stop_event.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            delay = self._not_before - time.monotonic()
            if delay > 0:
                self._set_status(state="pending", retry_in_ms=int(delay * 1000))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), delay)
                continue
            claim = None
            if self.status.state != "error":
                try:
                    claim = await asyncio.to_thread(
                        self._outbox.claim, max_events=self._cap, max_bytes=self._max_bytes
                    )
                except Exception:  # a locked or broken file: keep the task, try again later
                    log.exception("progress-sync: reading the outbox failed")
                    self._retry_later("outbox read failed", None)
                    continue
            if claim is None:
                self._drained.set()
                if self.status.state not in ("error", "idle"):
                    self._set_status(state="idle", retry_in_ms=0)
                if await self._wait_for_wake() and self._linger > 0 and not self._stopping:
                    await asyncio.sleep(self._linger)
                continue
            try:
                await self._deliver(claim)
            except asyncio.CancelledError:
                self._outbox.release(claim.seqs)
                raise
            except Exception:
                log.exception("progress-sync: settling a batch failed")
                await asyncio.to_thread(self._outbox.release, claim.seqs)
                self._retry_later("settling a batch failed", None)
            self._drained.set()

    async def _wait_for_wake(self) -> bool:
        """Wait for new events (or a while, for rows other processes left); True if woken."""
        try:
            await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        except TimeoutError:
            return False
        finally:
            self._wake.clear()
        return True

    async def _send(self, claim: Claim) -> Outcome:
        bodies = [entry.body for entry in claim.entries]
        self._set_status(state="sending", retry_in_ms=0)
        outcome = await send_events(self._http, self._credentials, claim.user_id, bodies)
        if (
            isinstance(outcome, NotAccepted)
            and outcome.decision.action == "renew_token"
            and await self._credentials.refresh()
        ):
            outcome = await send_events(
                self._http, self._credentials, claim.user_id, bodies, renewed=True
            )
        return outcome

    async def _deliver(self, claim: Claim) -> None:
        """Carry out what `policy.decide()` decided on the batch's answer."""
        outcome = await self._send(claim)
        if isinstance(outcome, Accepted):
            rejected = _rejections(claim, outcome)
            await asyncio.to_thread(self._outbox.complete, claim.entries, rejected)
            self._settled(claim, outcome, rejected)
            return
        decision = outcome.decision
        if decision.action == "split":
            self._cap = max(1, len(claim.entries) // 2)
            await asyncio.to_thread(self._outbox.release, claim.seqs)
        elif decision.reason == "too_large":
            entry = claim.entries[0]
            dropped = DroppedEvent(claim.user_id, entry.event_id, "too_large", outcome.message)
            await asyncio.to_thread(self._outbox.complete, claim.entries, {entry.event_id: dropped})
            self._drop(dropped)
        elif decision.reason == "erased":
            for entry in await asyncio.to_thread(self._outbox.drop_user, claim.user_id, "erased"):
                self._drop(DroppedEvent(claim.user_id, entry.event_id, "erased", outcome.message))
        elif decision.action == "retry":
            await asyncio.to_thread(self._outbox.release, claim.seqs)
            self._retry_later(outcome.message, decision.retry_after)
        else:  # an error, or a 401 the token provider could not renew
            await asyncio.to_thread(self._outbox.release, claim.seqs)
            message = outcome.message
            if decision.action == "renew_token":
                message = f"{message}: the token provider gave no new token"
            log.error("progress-sync: the server refused a batch, flushing stops: %s", message)
            self._set_status(state="error", error=message, retry_in_ms=0)

    def _settled(self, claim: Claim, outcome: Accepted, rejected: dict[str, DroppedEvent]) -> None:
        result = outcome.result
        if result.consistency_token:
            self.tokens[claim.user_id] = result.consistency_token
        for dropped in rejected.values():
            self._drop(dropped)
        self._backoff.reset()
        self._set_status(
            state="sending",
            sent=self.status.sent + len(claim.entries),
            last_synced_at=datetime.now(UTC),
            retry_count=0,
        )

    def _retry_later(self, reason: str, retry_after: float | None) -> None:
        delay = self._backoff.next_delay(retry_after)
        log.warning("progress-sync: %s; retrying in %.1f s", reason, delay)
        self._not_before = time.monotonic() + delay
        self._set_status(
            state="pending", retry_in_ms=int(delay * 1000), retry_count=self._backoff.failures
        )

    def _drop(self, dropped: DroppedEvent) -> None:
        log.warning(
            "progress-sync: event %s of user %s dropped (%s): %s",
            dropped.event_id,
            dropped.user_id,
            dropped.reason,
            dropped.error,
        )
        self._set_status(dropped=self.status.dropped + 1)
        if self._on_dropped is not None:
            try:
                self._on_dropped(dropped)
            except Exception:
                log.exception("progress-sync: the on_dropped callback failed")

    def _set_status(self, **changes: object) -> None:
        status = dataclasses.replace(self.status, **changes)  # type: ignore[arg-type]
        if status == self.status:
            return
        self.status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("progress-sync: the on_status callback failed")


def _rejections(claim: Claim, outcome: Accepted) -> dict[str, DroppedEvent]:
    """The events of an accepted batch that the server refused one by one, by eventId."""
    return {
        entry.event_id: DroppedEvent(
            claim.user_id, entry.event_id, "rejected", item.error, item.code, item.field
        )
        for entry, item in zip(claim.entries, outcome.result.results, strict=False)
        if item.status == "rejected"
    }
