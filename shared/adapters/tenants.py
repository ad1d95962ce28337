"""Tenants in MongoDB: API keys (stored only as hashes), signing secret, xAPI profile.

Plain API keys and signing secrets are made here and handed back once to the caller (the
operator's CLI); only the keys' SHA-256 hashes are stored, and nothing here logs either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo import TENANTS, Document, driver_errors
from shared.adapters.tenant_records import (
    ALL_SCOPES,
    API_KEY_PREFIX,
    ApiKeyGrant,
    IssuedKey,
    KeyNotFound,
    KeySummary,
    NewTenant,
    TenantError,
    TenantExists,
    TenantNotFound,
    TenantSummary,
    hash_api_key,
    new_key,
    new_key_id,
    new_signing_secret,
    valid_scopes,
    valid_signing_secret,
    valid_tenant_id,
)
from shared.xapi import XapiProfile

__all__ = [
    "ALL_SCOPES",
    "API_KEY_PREFIX",
    "BOOTSTRAP_KEY_ID",
    "ApiKeyGrant",
    "IssuedKey",
    "KeyNotFound",
    "KeySummary",
    "MongoTenantStore",
    "NewTenant",
    "TenantError",
    "TenantExists",
    "TenantNotFound",
    "TenantSummary",
    "hash_api_key",
    "valid_scopes",
    "valid_tenant_id",
]

BOOTSTRAP_KEY_ID = "bootstrap"
"""The id of the key a bootstrap tenant is created with."""

_SUMMARY_FIELDS = {"createdAt": 1, "apiKeys.id": 1, "apiKeys.scopes": 1, "apiKeys.createdAt": 1}


class MongoTenantStore:
    """Looks up credentials and provisions tenants. Plain API keys are never stored or logged."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tenants = db[TENANTS]

    async def grant_for_key(self, api_key: str) -> ApiKeyGrant | None:
        """The tenant and scopes of this API key, or None for an unknown key."""
        digest = hash_api_key(api_key)
        async with driver_errors():
            tenant = await self._tenants.find_one({"apiKeys.hash": digest}, {"apiKeys": 1})
        if tenant is None:
            return None
        for key in tenant["apiKeys"]:
            if key["hash"] == digest:
                return ApiKeyGrant(
                    tenant_id=tenant["_id"], scopes=frozenset(key["scopes"]), key_id=key.get("id")
                )
        return None

    async def signing_secret(self, tenant_id: str) -> str | None:
        """The tenant's HS256 secret for user tokens, or None for an unknown tenant."""
        async with driver_errors():
            tenant = await self._tenants.find_one({"_id": tenant_id}, {"signingSecret": 1})
        return None if tenant is None else str(tenant["signingSecret"])

    async def xapi_profile(self, tenant_id: str) -> XapiProfile | None:
        """The tenant's xAPI profile (the defaults if it never set one), or None if unknown.

        A stored profile that no longer validates (written by another version) reads as the
        defaults rather than failing every xAPI request of the tenant.
        """
        async with driver_errors():
            tenant = await self._tenants.find_one({"_id": tenant_id}, {"xapi": 1})
        if tenant is None:
            return None
        try:
            return XapiProfile.model_validate(tenant.get("xapi", {}))
        except ValidationError:
            return XapiProfile()

    async def set_xapi_profile(self, tenant_id: str, profile: XapiProfile) -> None:
        """Replace the tenant's xAPI profile; gateways see it within their cache's lifetime.

        Raises:
            TenantNotFound: If there is no such tenant.
            StoreUnavailable: If MongoDB cannot be reached.
        """
        stored = profile.model_dump(mode="json", by_alias=True)
        async with driver_errors():
            result = await self._tenants.update_one({"_id": tenant_id}, {"$set": {"xapi": stored}})
        if result.matched_count == 0:
            raise TenantNotFound(f"no tenant '{tenant_id}'")

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
            StoreUnavailable: If MongoDB cannot be reached; the tenant may then exist.
        """
        tenant_id = valid_tenant_id(tenant_id)
        issued, stored = new_key(new_key_id(), valid_scopes(scopes))
        secret = new_signing_secret()
        document = {
            "_id": tenant_id,
            "createdAt": datetime.now(UTC),
            "signingSecret": secret,
            "apiKeys": [stored],
        }
        async with driver_errors():
            try:
                await self._tenants.insert_one(document)
            except DuplicateKeyError as error:
                raise TenantExists(f"tenant '{tenant_id}' already exists") from error
        return NewTenant(tenant_id=tenant_id, key=issued, signing_secret=secret)

    async def list_tenants(self) -> list[TenantSummary]:
        """Every tenant with its keys' ids, scopes and ages, ordered by id.

        Hashes and signing secrets are left out by the query itself, so they never leave
        the database.
        """
        async with driver_errors():
            documents = await self._tenants.find({}, _SUMMARY_FIELDS).sort("_id").to_list()
        return [
            TenantSummary(
                tenant_id=document["_id"],
                created_at=document.get("createdAt"),
                keys=tuple(
                    KeySummary(
                        key_id=key["id"],
                        scopes=tuple(key["scopes"]),
                        created_at=key.get("createdAt"),
                    )
                    for key in document.get("apiKeys", [])
                ),
            )
            for document in documents
        ]

    async def add_key(self, tenant_id: str, scopes: Iterable[str] = ALL_SCOPES) -> IssuedKey:
        """Give the tenant one more API key; its other keys keep working.

        Raises:
            ValueError: If a scope is invalid.
            TenantNotFound: If there is no such tenant.
            StoreUnavailable: If MongoDB cannot be reached.
        """
        issued, stored = new_key(new_key_id(), valid_scopes(scopes))
        async with driver_errors():
            result = await self._tenants.update_one(
                {"_id": tenant_id}, {"$push": {"apiKeys": stored}}
            )
        if result.matched_count == 0:
            raise TenantNotFound(f"no tenant '{tenant_id}'")
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
            StoreUnavailable: If MongoDB cannot be reached.
        """
        chosen = None if scopes is None else valid_scopes(scopes)
        if key_id is None:
            issued, stored = new_key(new_key_id(), chosen or ALL_SCOPES)
            async with driver_errors():
                result = await self._tenants.update_one(
                    {"_id": tenant_id}, {"$set": {"apiKeys": [stored]}}
                )
            if result.matched_count == 0:
                raise TenantNotFound(f"no tenant '{tenant_id}'")
            return issued
        async with driver_errors():
            tenant = await self._tenants.find_one(
                {"_id": tenant_id}, {"apiKeys.id": 1, "apiKeys.scopes": 1}
            )
        if tenant is None:
            raise TenantNotFound(f"no tenant '{tenant_id}'")
        old = next((key for key in tenant.get("apiKeys", []) if key["id"] == key_id), None)
        if old is None:
            raise KeyNotFound(f"tenant '{tenant_id}' has no API key '{key_id}'")
        issued, stored = new_key(key_id, chosen or old["scopes"])
        async with driver_errors():
            result = await self._tenants.update_one(
                {"_id": tenant_id, "apiKeys.id": key_id}, {"$set": {"apiKeys.$": stored}}
            )
        if result.matched_count == 0:
            raise KeyNotFound(f"tenant '{tenant_id}' has no API key '{key_id}'")
        return issued

    async def rotate_secret(self, tenant_id: str) -> str:
        """Give the tenant a new signing secret; user tokens signed with the old one stop working.

        Gateways that cached the old secret accept its tokens for at most
        `PROGRESS_AUTH_CACHE_SECONDS` more.

        Raises:
            TenantNotFound: If there is no such tenant.
            StoreUnavailable: If MongoDB cannot be reached.
        """
        secret = new_signing_secret()
        async with driver_errors():
            result = await self._tenants.update_one(
                {"_id": tenant_id}, {"$set": {"signingSecret": secret}}
            )
        if result.matched_count == 0:
            raise TenantNotFound(f"no tenant '{tenant_id}'")
        return secret

    async def create_if_missing(self, tenant_id: str, api_key: str, signing_secret: str) -> bool:
        """Create the tenant with this API key (id `bootstrap`, all scopes) and secret, if absent.

        A tenant that exists is left exactly as it is, so re-running a deployment's init job
        never undoes a rotation. Returns True if the tenant was created.

        Raises:
            ValueError: If the id is invalid or the secret too short.
            StoreUnavailable: If MongoDB cannot be reached.
        """
        document = _bootstrap_document(tenant_id, api_key, signing_secret)
        async with driver_errors():
            try:
                await self._tenants.insert_one(document)
            except DuplicateKeyError:
                return False
        return True

    async def reset_credentials(self, tenant_id: str, api_key: str, signing_secret: str) -> None:
        """Make sure the tenant exists with this API key (all scopes) and signing secret.

        For the development stack only (`make run` re-applies the credentials it prints):
        replaces the key named `bootstrap` and the signing secret; other keys stay.

        Raises:
            ValueError: If the id is invalid or the secret too short.
            StoreUnavailable: If MongoDB cannot be reached.
        """
        document = _bootstrap_document(tenant_id, api_key, signing_secret)
        (bootstrap_key,) = document["apiKeys"]
        async with driver_errors():
            await self._tenants.update_one(
                {"_id": document["_id"]},
                {
                    "$setOnInsert": {"createdAt": document["createdAt"]},
                    "$set": {"signingSecret": signing_secret},
                    "$pull": {"apiKeys": {"id": BOOTSTRAP_KEY_ID}},
                },
                upsert=True,
            )
            await self._tenants.update_one(
                {"_id": document["_id"]}, {"$push": {"apiKeys": bootstrap_key}}
            )


def _bootstrap_document(tenant_id: str, api_key: str, signing_secret: str) -> Document:
    """A tenant whose one key, `bootstrap`, is the configured API key (checked values)."""
    now = datetime.now(UTC)
    return {
        "_id": valid_tenant_id(tenant_id),
        "createdAt": now,
        "signingSecret": valid_signing_secret(signing_secret),
        "apiKeys": [
            {
                "id": BOOTSTRAP_KEY_ID,
                "hash": hash_api_key(api_key),
                "scopes": list(ALL_SCOPES),
                "createdAt": now,
            }
        ],
    }
