"""Token buckets that keep one caller from spending everyone's capacity.

Three kinds, each in this gateway process's memory: per tenant (events per second), per
user under it, and per client address for failed authentication. With N gateways behind a
load balancer each limit is N times its setting. Bucket tables are bounded: an idle bucket
is forgotten once it would have refilled, and at most `_MAX_BUCKETS` are kept, so a flood of
made-up user ids or addresses cannot grow the gateway's memory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import token_bucket
from cachetools import TTLCache

from services.gateway.errors import ApiError
from shared.adapters.settings import Settings

__all__ = ["Bucket", "RateLimits"]

_MAX_BUCKETS = 100_000
_KEY_SEPARATOR = "\x1f"


class _BoundedStorage(token_bucket.StorageBase):
    """token_bucket's storage interface over a TTL cache: `[tokens, refilled at]` per key."""

    def __init__(self, ttl: float) -> None:
        self._buckets: TTLCache[str | bytes, list[float]] = TTLCache(_MAX_BUCKETS, ttl)

    def get_token_count(self, key: str | bytes) -> float:
        """Tokens in the bucket at its last refill (0 for a bucket never refilled)."""
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket[0]

    def replenish(self, key: str | bytes, rate: float, capacity: int) -> None:
        """Add the tokens earned since the last refill; a new bucket starts full."""
        now = time.monotonic()
        tokens, refilled_at = self._buckets.get(key, (float(capacity), now))
        self._buckets[key] = [min(capacity, tokens + rate * (now - refilled_at)), now]

    def consume(self, key: str | bytes, num_tokens: int) -> bool:
        """Take `num_tokens` if the bucket holds them."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket[0] < num_tokens:
            return False
        bucket[0] -= num_tokens
        return True


class Bucket:
    """One token bucket per key: refills at `rate` tokens/s, holds at most `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._storage = _BoundedStorage(ttl=burst / rate + 1)
        self._limiter = token_bucket.Limiter(rate, burst, self._storage)

    def take(self, key: str, cost: int = 1) -> int | None:
        """Take `cost` tokens (at most a full bucket); None on success, else seconds to wait."""
        cost = max(1, min(cost, self.burst))
        if self._limiter.consume(key.encode(), cost):
            return None
        return max(1, math.ceil(cost / self.rate))

    def empty(self, key: str) -> bool:
        """True when the bucket has less than one token left (nothing is taken)."""
        self._storage.replenish(key.encode(), self.rate, self.burst)
        return self._storage.get_token_count(key.encode()) < 1


def _limited(message: str, retry_after: int) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"{message}; retry after {retry_after}s",
        headers={"Retry-After": str(retry_after)},
    )


class RateLimits:
    """The gateway's limits: tenant and user budgets in events, failed sign-ins per address.

    A write costs one token per event, a read one token. The user's bucket is charged before
    the tenant's, so a user refused for its own limit spends none of the tenant's budget.
    """

    def __init__(self, settings: Settings) -> None:
        self._tenants = Bucket(settings.rate_limit_events_per_second, settings.rate_limit_burst)
        self._users = Bucket(
            settings.rate_limit_user_events_per_second, settings.rate_limit_user_burst
        )
        self._addresses = Bucket(
            settings.rate_limit_unauthenticated_per_second,
            settings.rate_limit_unauthenticated_burst,
        )

    def charge(self, tenant_id: str, events_per_user: Mapping[str, int], cost: int) -> None:
        """Charge each named user its events, then the tenant `cost`; raise 429 if one is out."""
        for user_id, events in events_per_user.items():
            wait = self._users.take(tenant_id + _KEY_SEPARATOR + user_id, events)
            if wait is not None:
                rate = self._users.rate
                raise _limited(f"user rate limit of {rate:g} events/s exceeded", wait)
        wait = self._tenants.take(tenant_id, cost)
        if wait is not None:
            raise _limited(f"tenant rate limit of {self._tenants.rate:g} events/s exceeded", wait)

    def address_exhausted(self, address: str) -> bool:
        """True when this client address has used up its failed authentications."""
        return self._addresses.empty(address)

    def address_refusal(self) -> ApiError:
        """The 429 for an exhausted address whose credential would need a database look-up."""
        rate = self._addresses.rate
        wait = max(1, math.ceil(1 / rate))
        return _limited(f"too many failed authentications from this address ({rate:g}/s)", wait)

    def charge_failure(self, address: str) -> None:
        """Count one failed authentication against the client address."""
        self._addresses.take(address)
