"""When to try again: the integration contract's one client policy, shared with the browser SDK.

Retry-After first (429 and 503 carry it), else 1, 5, 15 and 60 seconds with jitter, then every
60 seconds for as long as it takes: an event is never dropped because the server was away.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["BACKOFF_SECONDS", "Backoff", "parse_retry_after"]

BACKOFF_SECONDS: tuple[float, ...] = (1.0, 5.0, 15.0, 60.0)
"""Waits after the 1st, 2nd, 3rd and each later failure in a row."""

MAX_RETRY_AFTER = 3600.0
"""A server's Retry-After above this is taken as this (one bad header must not park a queue)."""


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date).

    None if the header is absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


@dataclass
class Backoff:
    """Counts failures in a row and says how long to wait before the next attempt.

    Jitter spreads the waits of many clients by ±`jitter` (a fraction) so that they do not all
    come back in the same second after an outage.
    """

    schedule: tuple[float, ...] = BACKOFF_SECONDS
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        """Record one more failure and return the seconds to wait (Retry-After when given)."""
        self.failures += 1
        if retry_after is not None:
            return retry_after
        base = self.schedule[min(self.failures, len(self.schedule)) - 1]
        return base * self.rng.uniform(1 - self.jitter, 1 + self.jitter)

    def reset(self) -> None:
        """A send went through: the next failure waits the shortest time again."""
        self.failures = 0
