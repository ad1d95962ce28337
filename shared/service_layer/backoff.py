"""Capped exponential backoff for consumers that pause during an outage."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays of base·2ⁿ seconds (±10 % jitter), capped; `reset` after a success.

    Small enough to keep here: a retry library wraps a call, but a consumer that rewinds
    its batch and returns needs only the next delay.
    """

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self._base = base
        self._cap = cap
        self._failures = 0

    def next_delay(self) -> float:
        """The delay before the next try; each call doubles it up to the cap."""
        delay = min(self._cap, self._base * 2**self._failures)
        self._failures = min(self._failures + 1, 32)
        jittered: float = delay * random.uniform(0.9, 1.1)
        return jittered

    def reset(self) -> None:
        """Start again from the base delay."""
        self._failures = 0
