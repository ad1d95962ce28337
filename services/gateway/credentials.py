"""Credential look-ups with a short cache, so a request does not cost a database read."""

from __future__ import annotations

import copy

import jwt
from cachetools import TTLCache

from shared.adapters.issuer_records import TrustedIssuer
from shared.adapters.issuers import MongoIssuerStore
from shared.adapters.jwks import JwksCache
from shared.domain.tenants import ApiKeyGrant, hash_api_key
from shared.service_layer.ports import TenantStore

__all__ = ["CachedCredentials", "NotCached"]

_MAX_ENTRIES = 10_000


class NotCached(Exception):
    """A cache-only look-up found nothing either way: it would have asked the database."""


class CachedCredentials:
    """Remembers API keys, signing secrets and trusted issuers, found or not, for `ttl` seconds.

    A revoked key or rotated secret stops working within `ttl` seconds, and a key created a
    moment ago may take as long to work if someone tried it before it existed. Misses are
    cached apart from hits, so a flood of made-up keys or tenants reaches the database once
    per value and `ttl`, and cannot push real credentials out of the cache. Keys are cached
    by their hash. Issuers' public keys are cached by `keys` (the provider's own lifetime).
    """

    def __init__(
        self,
        tenants: TenantStore,
        ttl: float,
        *,
        issuers: MongoIssuerStore,
        keys: JwksCache,
        clock_skew_seconds: int,
    ) -> None:
        self._tenants = tenants
        self._issuer_store = issuers
        self._keys = keys
        self.clock_skew_seconds = clock_skew_seconds
        self._issuers: TTLCache[str, tuple[TrustedIssuer, ...]] = TTLCache(_MAX_ENTRIES, ttl)
        self._grants: TTLCache[str, ApiKeyGrant] = TTLCache(_MAX_ENTRIES, ttl)
        self._secrets: TTLCache[str, str] = TTLCache(_MAX_ENTRIES, ttl)
        self._unknown_keys: TTLCache[str, bool] = TTLCache(_MAX_ENTRIES, ttl)
        self._unknown_tenants: TTLCache[str, bool] = TTLCache(_MAX_ENTRIES, ttl)
        self._cache_only = False

    def cache_only(self) -> CachedCredentials:
        """The same caches, never asking the database: a value not cached raises NotCached.

        For callers that have used up their failed authentications: what is cached still
        answers (a real key behind the same address keeps working), nothing else is looked up.
        """
        view = copy.copy(self)
        view._cache_only = True
        return view

    async def grant_for_key(self, api_key: str) -> ApiKeyGrant | None:
        """The tenant and scopes of this API key, or None for an unknown key."""
        digest = hash_api_key(api_key)
        grant = self._grants.get(digest)
        if grant is not None or digest in self._unknown_keys:
            return grant
        if self._cache_only:
            raise NotCached
        grant = await self._tenants.grant_for_hash(digest)
        if grant is None:
            self._unknown_keys[digest] = True
        else:
            self._grants[digest] = grant
        return grant

    async def signing_secret(self, tenant_id: str) -> str | None:
        """The tenant's current user-token secret, or None for an unknown tenant."""
        secret = self._secrets.get(tenant_id)
        if secret is not None or tenant_id in self._unknown_tenants:
            return secret
        if self._cache_only:
            raise NotCached
        secret = await self._tenants.signing_secret(tenant_id)
        if secret is None:
            self._unknown_tenants[tenant_id] = True
        else:
            self._secrets[tenant_id] = secret
        return secret

    async def issuers_named(self, issuer: str) -> tuple[TrustedIssuer, ...]:
        """Every tenant's trust in the issuer `iss` (empty: no tenant trusts it)."""
        found = self._issuers.get(issuer)
        if found is not None:
            return found
        if self._cache_only:
            raise NotCached
        found = self._issuers[issuer] = tuple(await self._issuer_store.named(issuer))
        return found

    async def issuer_key(self, issuer: TrustedIssuer, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The issuer's public key for this `kid` and `alg` (see `JwksCache.key`)."""
        return await self._keys.key(issuer, kid, algorithm)
