"""Tenants' xAPI profiles with a short cache, so an xAPI request does not cost a database read."""

from __future__ import annotations

from cachetools import TTLCache

from shared.service_layer.ports import TenantStore
from shared.xapi import XapiProfile

__all__ = ["CachedXapiProfiles"]

_MAX_ENTRIES = 10_000


class CachedXapiProfiles:
    """Remembers each tenant's profile for `ttl` seconds (a change applies within `ttl`).

    Only tenants that exist are asked for (the caller's API key named them), so the cache
    holds at most one entry per tenant.
    """

    def __init__(self, tenants: TenantStore, ttl: float) -> None:
        self._tenants = tenants
        self._profiles: TTLCache[str, XapiProfile] = TTLCache(_MAX_ENTRIES, ttl)

    async def of(self, tenant_id: str) -> XapiProfile:
        """The tenant's profile; the defaults for a tenant that has none (or no longer exists)."""
        profile = self._profiles.get(tenant_id)
        if profile is None:
            profile = await self._tenants.xapi_profile(tenant_id) or XapiProfile()
            self._profiles[tenant_id] = profile
        return profile
