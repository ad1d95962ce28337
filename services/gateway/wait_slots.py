"""How many reads may wait on a consistency token at once: per user, and per process.

A waiting read holds no request slot (`InFlightLimit`); it holds one of these instead: at
most `PROGRESS_WAIT_MAX_PER_USER` per user and `PROGRESS_WAIT_MAX_PER_PROCESS` in this
gateway process. Past either bound the read is refused at once with 429 `too_many_waits`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from services.gateway.errors import ApiError
from shared.adapters.logs import get_logger
from shared.adapters.metrics import GATEWAY_WAITS
from shared.service_layer.user_keys import UserKey

__all__ = ["Refusal", "UserSlots", "wait_slots"]

log = get_logger(__name__)


@dataclass(frozen=True)
class Refusal:
    """How a bound answers: its code, the field it names, what it counts and how to go on."""

    code: str
    field: str
    what: str
    advice: str
    event: str
    counted: Callable[[], None]


class UserSlots:
    """Counts what users hold open, per user and in all; past a bound, 429 with `Retry-After`."""

    def __init__(self, per_user: int, per_process: int, refusal: Refusal) -> None:
        self._per_user = per_user
        self._per_process = per_process
        self._refusal_of = refusal
        self._waiting: Counter[UserKey] = Counter()
        self._total = 0

    @contextmanager
    def hold(self, key: UserKey) -> Iterator[None]:
        """Hold a slot of the user for the block; the 429 refusal if none is free."""
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
        refusal = self._refusal_of
        log.warning(refusal.event, tenant=key[0], reason=why)
        refusal.counted()
        return ApiError(
            429,
            refusal.code,
            f"{refusal.what}: {why}; {refusal.advice}",
            field=refusal.field,
            headers={"Retry-After": "1"},
        )


def wait_slots(per_user: int, per_process: int) -> UserSlots:
    """Reads waiting on a consistency token: past a bound, 429 `too_many_waits`."""
    return UserSlots(
        per_user,
        per_process,
        Refusal(
            code="too_many_waits",
            field="waitFor",
            what="waiting reads",
            advice="retry shortly or read without waitFor",
            event="consistency_wait_refused",
            counted=GATEWAY_WAITS.labels("refused").inc,
        ),
    )
