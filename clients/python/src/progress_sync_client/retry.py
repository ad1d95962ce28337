"""When to try again: the integration contract's one client policy, shared with the browser SDK.

`clients/golden/policy-vectors.json` holds the policy as data; both SDKs' tests run it.

Retry-After first (429 and 503 carry it), else 1, 5, 15 and 60 seconds with jitter, then every
60 seconds for as long as it takes: an event is never dropped because the server was away.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

__all__ = ["BACKOFF_SECONDS", "Backoff", "parse_retry_after"]

BACKOFF_SECONDS: tuple[float, ...] = (1.0, 5.0, 15.0, 60.0)
"""Waits after the 1st, 2nd, 3rd and each later failure in a row."""

MAX_RETRY_AFTER = 3600.0
"""A server's Retry-After above this is taken as this (one bad header must not park a queue)."""


_SECONDS = re.compile(r"[0-9]+")
_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header, at most `MAX_RETRY_AFTER`.

    Whole seconds (ASCII digits) or an HTTP-date in the IMF-fixdate form
    (`Sun, 06 Nov 1994 08:49:37 GMT`), as `clients/golden/policy-vectors.json` holds both
    SDKs to. None if the header is absent or anything else: then the backoff step applies.
    """
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return min(float(text), MAX_RETRY_AFTER)
    date = _IMF_FIXDATE.fullmatch(text)
    if date is None:
        return None
    day, month, year, hour, minute, second = date.groups()
    try:
        when = datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
    except ValueError:  # 31 Feb, 25:00: no date at all
        return None
    if format_datetime(when, usegmt=True) != text:  # a weekday that is not that date's
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
