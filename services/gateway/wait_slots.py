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

__all__ = ["UserSlots", "WaitSlots"]

log = get_logger(__name__)


class UserSlots:
    """Counts what a user holds open, per user and in all; refuses past the bounds.

    Subclasses say how a refusal is logged, counted and answered (`_refusal`).
    """

    def __init__(self, per_user: int, per_process: int) -> None:
        self._per_user = per_user
        self._per_process = per_process
        self._waiting: Counter[UserKey] = Counter()
        self._total = 0

    @contextmanager
    def hold(self, key: UserKey) -> Iterator[None]:
        """Hold a slot of the user for the block; the subclass's refusal if none is free."""
        if self._waiting[key] >= self._per_user:
            raise self._refusal(key, f"{self._per_user} of this user are open already")
        if self._total >= self._per_process:
            raise self._refusal(key, f"{self._per_process} are open already")
        self._waiting[key] += 1
        self._total += 1
        try:
            yield
        finally:
            self._total -= 1
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]

    def _refusal(self, key: UserKey, why: str) -> ApiError:
        raise NotImplementedError


class WaitSlots(UserSlots):
    """Reads waiting on a consistency token: past a bound, 429 `too_many_waits`."""

    def _refusal(self, key: UserKey, why: str) -> ApiError:
        log.warning("consistency_wait_refused", tenant=key[0], reason=why)
        GATEWAY_WAITS.labels("refused").inc()
        return ApiError(
            429,
            "too_many_waits",
            f"waiting reads: {why}; retry shortly or read without waitFor",
            field="waitFor",
            headers={"Retry-After": "1"},
        )
