"""Liveness of a consumer loop: is it making progress while it has work?

A consumer's `/healthz` answers 503 when a batch it took has been in hand for longer than
`PROGRESS_CONSUMER_STALL_SECONDS` (a hung database call, a deadlock, a loop that stopped
being scheduled): restarting the process is then the cure, which is what a liveness probe
does. Waiting for records (no work) and the back-off after an outage (each attempt ends) are
not stalls; a retry tier's hold until a message is due is not counted as work either.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["ConsumerLiveness"]


class ConsumerLiveness:
    """The batches a process's consumers hold right now, and since when.

    One per process (a retry worker runs one consumer per tier, so several batches can be
    in hand at once); `stall()` names the oldest one that has been held too long.
    """

    def __init__(self, stall_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._stall_seconds = stall_seconds
        self._clock = clock
        self._held: dict[int, tuple[float, str]] = {}
        self._ids = itertools.count()

    @contextmanager
    def working(self, what: str) -> Iterator[None]:
        """Count the block as work in hand (`what` names it in the stall's reason)."""
        ticket = next(self._ids)
        self._held[ticket] = (self._clock(), what)
        try:
            yield
        finally:
            del self._held[ticket]

    def stall(self) -> str | None:
        """Why the loop is not making progress, or None while it is (or has nothing to do)."""
        if not self._held:
            return None
        since, what = min(self._held.values())
        held = self._clock() - since
        if held <= self._stall_seconds:
            return None
        return (
            f"{what} has been in progress for {held:.0f} s "
            f"(PROGRESS_CONSUMER_STALL_SECONDS={self._stall_seconds:g})"
        )
