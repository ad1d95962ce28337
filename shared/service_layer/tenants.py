"""Tenant management: create tenants, issue and rotate their API keys and signing secrets.

Plain API keys and signing secrets are made here (by the domain's rules) and handed back
once to the caller, the operator's CLI; the store keeps only the keys' hashes, and nothing
here logs either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from shared.domain.tenants import (
    ALL_SCOPES,
    IssuedKey,
    KeyNotFound,
    NewTenant,
    TenantExists,
    TenantNotFound,
    TenantSummary,
    bootstrap_record,
    issue_key,
    new_key_id,
    new_signing_secret,
    new_tenant,
    valid_scopes,
)
from shared.service_layer.ports import Clock, TenantStore
from shared.xapi import XapiProfile

__all__ = ["TenantAdmin"]

T = TypeVar("T")


class TenantAdmin:
    """The operator's tenant use cases over a `TenantStore`.

    Every method may raise `StoreUnavailable` on an outage; a write that raised it may
    still have been applied.
    """

    def __init__(self, store: TenantStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(self, tenant_id: str, scopes: Iterable[str] = ALL_SCOPES) -> NewTenant:
        """Create a tenant with one new API key and a new signing secret.

        Args:
            tenant_id: The new tenant's id (the contract's `TenantId` rule).
            scopes: The first key's scopes.

        Returns:
            The key and the secret in plain text; only the key's hash is stored.

        Raises:
            ValueError: If the id or a scope is invalid.
            TenantExists: If the tenant already exists (it is left as it was).
        """
        created, record = new_tenant(tenant_id, scopes, self._clock.now())
        if not await self._store.insert(record):
            raise TenantExists(f"tenant '{created.tenant_id}' already exists")
        return created

    async def list_tenants(self) -> list[TenantSummary]:
        """Every tenant with its keys' ids, scopes and ages, ordered by id (no secret)."""
        return await self._store.summaries()

    async def add_key(self, tenant_id: str, scopes: Iterable[str] = ALL_SCOPES) -> IssuedKey:
        """Give the tenant one more API key; its other keys keep working.

        Raises:
            ValueError: If a scope is invalid.
            TenantNotFound: If there is no such tenant.
        """
        issued, stored = issue_key(new_key_id(), valid_scopes(scopes), self._clock.now())
        _found(tenant_id, await self._store.add_key(tenant_id, stored))
        return issued

    async def rotate_key(
        self, tenant_id: str, key_id: str | None = None, scopes: Iterable[str] | None = None
    ) -> IssuedKey:
        """Issue a new API key and revoke what it replaces, in one write.

        With `key_id`, only that key is replaced: the new key keeps its id and, unless
        `scopes` is given, its scopes. Without it, every key of the tenant (`bootstrap`
        included) is revoked and one new key with a new id is issued, with `scopes` or all
        scopes: the answer to "a key leaked, and we do not know which".

        Raises:
            ValueError: If a scope is invalid.
            TenantNotFound: If there is no such tenant.
            KeyNotFound: If the tenant has no key `key_id`.
        """
        chosen = None if scopes is None else valid_scopes(scopes)
        now = self._clock.now()
        if key_id is None:
            issued, stored = issue_key(new_key_id(), chosen or ALL_SCOPES, now)
            _found(tenant_id, await self._store.replace_all_keys(tenant_id, stored))
            return issued
        old = _found(tenant_id, await self._store.summary(tenant_id)).key(key_id)
        if old is not None:
            issued, stored = issue_key(key_id, chosen or old.scopes, now)
            if await self._store.replace_key(tenant_id, stored):
                return issued
        raise KeyNotFound(f"tenant '{tenant_id}' has no API key '{key_id}'")

    async def rotate_secret(self, tenant_id: str) -> str:
        """Give the tenant a new signing secret; user tokens signed with the old one stop working.

        Gateways that cached the old secret accept its tokens for at most
        `PROGRESS_AUTH_CACHE_SECONDS` more.

        Raises:
            TenantNotFound: If there is no such tenant.
        """
        secret = new_signing_secret()
        _found(tenant_id, await self._store.set_signing_secret(tenant_id, secret))
        return secret

    async def signing_secret(self, tenant_id: str) -> str:
        """The tenant's current signing secret (to mint a user token with).

        Raises:
            TenantNotFound: If there is no such tenant.
        """
        return _found(tenant_id, await self._store.signing_secret(tenant_id))

    async def create_if_missing(self, tenant_id: str, api_key: str, signing_secret: str) -> bool:
        """Create the tenant with this API key (id `bootstrap`, all scopes) and secret, if absent.

        A tenant that exists is left exactly as it is, so re-running a deployment's init job
        never undoes a rotation. Returns True if the tenant was created.

        Raises:
            ValueError: If the id is invalid or the secret too short.
        """
        record = bootstrap_record(tenant_id, api_key, signing_secret, self._clock.now())
        return await self._store.insert(record)

    async def reset_credentials(self, tenant_id: str, api_key: str, signing_secret: str) -> None:
        """Make sure the tenant exists with this API key (all scopes) and signing secret.

        For the development stack only (`make run` re-applies the credentials it prints):
        replaces the key named `bootstrap` and the signing secret; other keys stay.

        Raises:
            ValueError: If the id is invalid or the secret too short.
        """
        record = bootstrap_record(tenant_id, api_key, signing_secret, self._clock.now())
        if await self._store.insert(record):
            return
        (key,) = record.keys
        await self._store.set_signing_secret(record.tenant_id, record.signing_secret)
        if not await self._store.replace_key(record.tenant_id, key):
            await self._store.add_key(record.tenant_id, key)

    async def xapi_profile(self, tenant_id: str) -> XapiProfile:
        """The tenant's xAPI profile (the defaults if it never set one).

        Raises:
            TenantNotFound: If there is no such tenant.
        """
        return _found(tenant_id, await self._store.xapi_profile(tenant_id))

    async def set_xapi_profile(self, tenant_id: str, profile: XapiProfile) -> None:
        """Replace the tenant's xAPI profile; gateways see it within their cache's lifetime.

        Raises:
            TenantNotFound: If there is no such tenant.
        """
        _found(tenant_id, await self._store.set_xapi_profile(tenant_id, profile))


def _found(tenant_id: str, answer: T | None) -> T:
    """The store's answer about the tenant; TenantNotFound if it answered None or False."""
    if answer is None or answer is False:
        raise TenantNotFound(f"no tenant '{tenant_id}'")
    return answer
