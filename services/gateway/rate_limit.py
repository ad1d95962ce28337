"""Per-tenant rate limiting: a token bucket per tenant, in events per second."""

from __future__ import annotations

import math

import token_bucket

from services.gateway.errors import ApiError

__all__ = ["TenantRateLimiter"]


class TenantRateLimiter:
    """One token bucket per tenant: refills at `rate` tokens/s, holds at most `burst`.

    A write costs one token per event, a read one token. Buckets live in this gateway
    process: with N gateways behind a load balancer a tenant's limit is N times the setting.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._limiter = token_bucket.Limiter(rate, burst, token_bucket.MemoryStorage())

    def charge(self, tenant_id: str, cost: int = 1) -> None:
        """Take `cost` tokens from the tenant's bucket or raise 429 with Retry-After."""
        cost = max(1, min(cost, self._burst))
        if self._limiter.consume(tenant_id.encode(), cost):
            return
        retry_after = max(1, math.ceil(cost / self._rate))
        raise ApiError(
            429,
            "rate_limited",
            f"tenant rate limit of {self._rate:g} events/s exceeded; retry after {retry_after}s",
            headers={"Retry-After": str(retry_after)},
        )
