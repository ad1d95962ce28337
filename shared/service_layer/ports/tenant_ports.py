"""What tenant management and the gateway's credential checks need: where tenants are kept."""

from __future__ import annotations

from typing import Protocol

from shared.domain.tenants import ApiKeyGrant, StoredKey, TenantRecord, TenantSummary
from shared.xapi import XapiProfile

__all__ = ["TenantStore"]


class TenantStore(Protocol):
    """Tenants with their hashed API keys, signing secret and xAPI profile.

    It stores what it is given and decides nothing: the rules (ids, scopes, what a rotation
    replaces) are the use cases'. A write to an unknown tenant changes nothing and answers
    False. Plain API keys never reach the store: keys are stored and looked up by hash.
    """

    async def insert(self, tenant: TenantRecord) -> bool:
        """Store a new tenant; False, and the stored one left as it is, if the id is taken."""
        ...

    async def summaries(self) -> list[TenantSummary]:
        """Every tenant with its keys' ids, scopes and ages, ordered by id (no hash, no secret)."""
        ...

    async def summary(self, tenant_id: str) -> TenantSummary | None:
        """The tenant with its keys' ids, scopes and ages, or None for an unknown tenant."""
        ...

    async def grant_for_hash(self, key_hash: str) -> ApiKeyGrant | None:
        """The tenant, scopes and id of the key with this hash, or None for an unknown key."""
        ...

    async def add_key(self, tenant_id: str, key: StoredKey) -> bool:
        """Give the tenant one more key, after the ones it has."""
        ...

    async def replace_key(self, tenant_id: str, key: StoredKey) -> bool:
        """Put `key` in place of the tenant's key of the same id, in one write.

        False if there is no such tenant or it has no key of that id.
        """
        ...

    async def replace_all_keys(self, tenant_id: str, key: StoredKey) -> bool:
        """Revoke every key of the tenant and keep `key` as its only one, in one write."""
        ...

    async def signing_secret(self, tenant_id: str) -> str | None:
        """The tenant's HS256 secret for user tokens, or None for an unknown tenant."""
        ...

    async def set_signing_secret(self, tenant_id: str, secret: str) -> bool:
        """Replace the tenant's signing secret."""
        ...

    async def xapi_profile(self, tenant_id: str) -> XapiProfile | None:
        """The tenant's xAPI profile (the defaults if it has none), or None if unknown."""
        ...

    async def set_xapi_profile(self, tenant_id: str, profile: XapiProfile) -> bool:
        """Replace the tenant's xAPI profile as a whole."""
        ...
