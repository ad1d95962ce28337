"""How many reads may wait on a consistency token at once: per user, and per process.

A waiting read holds no request slot (`InFlightLimit`); it holds one of these instead: at
most `PROGRESS_WAIT_MAX_PER_USER` per user and `PROGRESS_WAIT_MAX_PER_PROCESS` in this
gateway process. Past either bound the read is refused at once with 429 `too_many_waits`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from services.gateway.errors import ApiError
from shared.adapters.logs import get_logger
from shared.adapters.metrics import GATEWAY_WAITS
from shared.service_layer.records import UserKey

__all__ = ["WaitSlots"]

log = get_logger(__name__)


class WaitSlots:
    """Counts the reads waiting on a token, per user and in all; refuses past the bounds."""

    def __init__(self, per_user: int, per_process: int) -> None:
        self._per_user = per_user
        self._per_process = per_process
        self._waiting: Counter[UserKey] = Counter()
        self._total = 0

    @contextmanager
    def hold(self, key: UserKey) -> Iterator[None]:
        """Hold a wait slot of the user for the block; 429 `too_many_waits` if none is free."""
        if self._waiting[key] >= self._per_user:
            raise self._refusal(key, f"{self._per_user} reads of this user wait already")
        if self._total >= self._per_process:
            raise self._refusal(key, f"{self._per_process} reads wait already")
        self._waiting[key] += 1
        self._total += 1
        try:
            yield
        finally:
            self._total -= 1
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]

    @staticmethod
    def _refusal(key: UserKey, why: str) -> ApiError:
        log.warning("consistency_wait_refused", tenant=key[0], reason=why)
        GATEWAY_WAITS.labels("refused").inc()
        return ApiError(
            429,
            "too_many_waits",
            f"{why}; retry shortly or read without waitFor",
            field="waitFor",
            headers={"Retry-After": "1"},
        )
