"""The retry schedule: how long a failed event waits before each further attempt."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JITTER", "RETRY_TIERS", "RetryTier"]

JITTER = 0.2
"""Each wait is its tier's delay times a random factor in [1 - JITTER, 1 + JITTER]."""


@dataclass(frozen=True, slots=True)
class RetryTier:
    """One step of the retry schedule: failed events wait `delay_seconds` in this tier."""

    name: str
    delay_seconds: float


RETRY_TIERS: tuple[RetryTier, ...] = (
    RetryTier("1s", 1.0),
    RetryTier("5s", 5.0),
    RetryTier("15s", 15.0),
    RetryTier("60s", 60.0),
)
"""After the last tier fails, the event becomes a dead letter."""
