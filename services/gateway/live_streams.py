"""The live streams open in this gateway process: bounded, and woken when their user changes.

A stream holds no request slot (`InFlightLimit`); it holds one of these instead: at most
`PROGRESS_STREAM_MAX_PER_USER` per user and `PROGRESS_STREAM_MAX_PER_PROCESS` in this
process, past either 429 `too_many_streams`. The follower of `progress.changes` wakes the
streams of the user an announcement names; shutdown ends every stream with its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from services.gateway.errors import ApiError
from services.gateway.wait_slots import Refusal, UserSlots
from shared.adapters.logs import get_logger
from shared.adapters.metrics import (
    GATEWAY_STREAM_READ_FAILURES,
    GATEWAY_STREAMS_CLOSED,
    GATEWAY_STREAMS_OPEN,
)
from shared.adapters.settings import Settings
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.user_keys import UserKey

__all__ = ["Listener", "LiveStreams", "StreamTiming", "sweep_streams"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StreamTiming:
    """How often a quiet stream keeps alive, how long it lives, how long a send may wait."""

    keep_alive: float
    lifetime: float
    send_timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> StreamTiming:
        """The `PROGRESS_STREAM_*` settings."""
        return cls(
            keep_alive=settings.stream_keep_alive_seconds,
            lifetime=settings.stream_lifetime_seconds,
            send_timeout=settings.stream_send_timeout_seconds,
        )


@dataclass(eq=False, slots=True)
class Listener:
    """One open stream's wake-up call: its user's log may have moved, or it must end."""

    key: UserKey
    cursor: int
    """Where the stream is in its user's log (the id of its last message)."""
    ending: str | None = None
    """Set when the process ends every stream (`shutdown`)."""
    _woken: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """Make the stream read its user's log (now, or as soon as it waits again)."""
        self._woken.set()

    async def wait(self, seconds: float) -> bool:
        """Wait at most `seconds` for a wake-up; True if one came (it is then consumed)."""
        if not self._woken.is_set() and seconds > 0:
            try:
                await asyncio.wait_for(self._woken.wait(), seconds)
            except TimeoutError:
                return False
        woken = self._woken.is_set()
        self._woken.clear()
        return woken


class LiveStreams:
    """Every open stream of the process, by user."""

    def __init__(self, per_user: int, per_process: int) -> None:
        self._slots = UserSlots(
            per_user,
            per_process,
            Refusal(
                code="too_many_streams",
                field="userId",
                what="live streams",
                advice="close one or retry shortly",
                event="stream_refused",
                counted=GATEWAY_STREAMS_CLOSED.labels("refused").inc,
            ),
        )
        self._listeners: dict[UserKey, set[Listener]] = {}
        self._ending: str | None = None

    @contextmanager
    def open(self, key: UserKey, cursor: int) -> Iterator[Listener]:
        """Hold a stream slot of the user for the block; 429 `too_many_streams` if none is free.

        Once the process ends its streams (`end_all`), a new one is refused with 503.
        """
        if self._ending is not None:
            raise ApiError(
                503,
                "shutting_down",
                "this gateway process is shutting down; reconnect shortly",
                headers={"Retry-After": "1"},
            )
        with self._slots.hold(key):
            listener = Listener(key, cursor)
            self._listeners.setdefault(key, set()).add(listener)
            GATEWAY_STREAMS_OPEN.inc()
            try:
                yield listener
            finally:
                GATEWAY_STREAMS_OPEN.dec()
                listeners = self._listeners[key]
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[key]

    def wake(self, key: UserKey) -> None:
        """Wake every open stream of the user (a change announcement named them)."""
        for listener in self._listeners.get(key, ()):
            listener.wake()

    def users(self) -> list[UserKey]:
        """The users with at least one open stream."""
        return list(self._listeners)

    def wake_behind(self, heads: Mapping[UserKey, int], changed: Collection[UserKey]) -> None:
        """Wake the streams behind their user's head, and every stream of `changed` users."""
        for key, listeners in self._listeners.items():
            for listener in listeners:
                if key in changed or listener.cursor < heads.get(key, 0):
                    listener.wake()

    def end_all(self, reason: str) -> None:
        """Make every open stream end with `reason`, and refuse new ones from now on."""
        self._ending = reason
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.ending = reason
                listener.wake()
        log.info("streams_ending", reason=reason, streams=sum(map(len, self._listeners.values())))


Lookup = Callable[[Sequence[UserKey]], Awaitable[Collection[UserKey]]]
"""Which of these users are in some state (erased, merged): one query for all of them."""


async def sweep_streams(
    streams: LiveStreams,
    positions: Callable[[Sequence[UserKey]], Awaitable[Mapping[UserKey, int]]],
    lookups: Sequence[Lookup],
    interval: float,
) -> None:
    """Every `interval`, wake the streams an announcement should have woken; until cancelled.

    An announcement may be lost (a broker outage): this catches up with one query for the
    heads of every user with an open stream, and one per `lookups` (erased, merged users),
    however many streams are open. A database outage is logged, counted and tried again.
    """
    while True:
        await asyncio.sleep(interval)
        keys = streams.users()
        if not keys:
            continue
        try:
            heads = await positions(keys)
            changed: set[UserKey] = set()
            for lookup in lookups:
                changed.update(await lookup(keys))
        except StoreUnavailable as error:
            log.warning("stream_sweep_failed", users=len(keys), error=str(error))
            GATEWAY_STREAM_READ_FAILURES.inc()
            continue
        streams.wake_behind(heads, changed)
