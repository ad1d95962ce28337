"""Tenants in MongoDB: the `TenantStore` port over the `tenants` collection.

A tenant is one document: `_id` (the tenant id), `createdAt`, `signingSecret`, `apiKeys`
(each `id`, `hash`, `scopes`, `createdAt`; never the plain key) and `xapi` (its profile,
once set). The rules live in `shared.domain.tenants` and the use cases in
`shared.service_layer.tenants`; this module only stores and reads.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.adapters.clock import SystemClock
from shared.adapters.mongo import TENANTS, Document, driver_errors
from shared.domain.tenants import (
    ApiKeyGrant,
    KeySummary,
    StoredKey,
    TenantRecord,
    TenantSummary,
)
from shared.service_layer.tenants import TenantAdmin
from shared.xapi import XapiProfile

__all__ = ["MongoTenantStore", "mongo_tenants"]

_SUMMARY_FIELDS = {"createdAt": 1, "apiKeys.id": 1, "apiKeys.scopes": 1, "apiKeys.createdAt": 1}


def mongo_tenants(db: AsyncDatabase[Document]) -> TenantAdmin:
    """The tenant use cases over MongoDB (`progressctl`, the development stack)."""
    return TenantAdmin(MongoTenantStore(db), SystemClock())


class MongoTenantStore:
    """`TenantStore` over the `tenants` collection. Plain API keys are never stored or logged."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tenants = db[TENANTS]

    async def insert(self, tenant: TenantRecord) -> bool:
        """Store a new tenant; False, and the stored one left as it is, if the id is taken."""
        document = {
            "_id": tenant.tenant_id,
            "createdAt": tenant.created_at,
            "signingSecret": tenant.signing_secret,
            "apiKeys": [_key_document(key) for key in tenant.keys],
        }
        async with driver_errors():
            try:
                await self._tenants.insert_one(document)
            except DuplicateKeyError:
                return False
        return True

    async def summaries(self) -> list[TenantSummary]:
        """Every tenant with its keys' ids, scopes and ages, ordered by id.

        Hashes and signing secrets are left out by the query itself, so they never leave
        the database.
        """
        async with driver_errors():
            documents = await self._tenants.find({}, _SUMMARY_FIELDS).sort("_id").to_list()
        return [_summary(document) for document in documents]

    async def summary(self, tenant_id: str) -> TenantSummary | None:
        """The tenant with its keys' ids, scopes and ages (no hash, no secret), or None."""
        async with driver_errors():
            document = await self._tenants.find_one({"_id": tenant_id}, _SUMMARY_FIELDS)
        return None if document is None else _summary(document)

    async def grant_for_hash(self, key_hash: str) -> ApiKeyGrant | None:
        """The tenant, scopes and id of the key with this hash, or None for an unknown key."""
        async with driver_errors():
            tenant = await self._tenants.find_one({"apiKeys.hash": key_hash}, {"apiKeys": 1})
        if tenant is None:
            return None
        for key in tenant["apiKeys"]:
            if key["hash"] == key_hash:
                return ApiKeyGrant(
                    tenant_id=tenant["_id"], scopes=frozenset(key["scopes"]), key_id=key.get("id")
                )
        return None

    async def add_key(self, tenant_id: str, key: StoredKey) -> bool:
        """Give the tenant one more key, after the ones it has."""
        return await self._update({"_id": tenant_id}, {"$push": {"apiKeys": _key_document(key)}})

    async def replace_key(self, tenant_id: str, key: StoredKey) -> bool:
        """Put `key` in place of the tenant's key of the same id, in one write."""
        return await self._update(
            {"_id": tenant_id, "apiKeys.id": key.key_id},
            {"$set": {"apiKeys.$": _key_document(key)}},
        )

    async def replace_all_keys(self, tenant_id: str, key: StoredKey) -> bool:
        """Revoke every key of the tenant and keep `key` as its only one, in one write."""
        return await self._update({"_id": tenant_id}, {"$set": {"apiKeys": [_key_document(key)]}})

    async def signing_secret(self, tenant_id: str) -> str | None:
        """The tenant's HS256 secret for user tokens, or None for an unknown tenant."""
        async with driver_errors():
            tenant = await self._tenants.find_one({"_id": tenant_id}, {"signingSecret": 1})
        return None if tenant is None else str(tenant["signingSecret"])

    async def set_signing_secret(self, tenant_id: str, secret: str) -> bool:
        """Replace the tenant's signing secret."""
        return await self._update({"_id": tenant_id}, {"$set": {"signingSecret": secret}})

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

    async def set_xapi_profile(self, tenant_id: str, profile: XapiProfile) -> bool:
        """Replace the tenant's xAPI profile as a whole."""
        stored = profile.model_dump(mode="json", by_alias=True)
        return await self._update({"_id": tenant_id}, {"$set": {"xapi": stored}})

    async def _update(self, selector: Document, change: Document) -> bool:
        """Apply `change` to the tenant `selector` names; False if it names none."""
        async with driver_errors():
            result = await self._tenants.update_one(selector, change)
        return result.matched_count > 0


def _key_document(key: StoredKey) -> dict[str, Any]:
    return {
        "id": key.key_id,
        "hash": key.key_hash,
        "scopes": list(key.scopes),
        "createdAt": key.created_at,
    }


def _summary(document: Document) -> TenantSummary:
    return TenantSummary(
        tenant_id=document["_id"],
        created_at=document.get("createdAt"),
        keys=tuple(
            KeySummary(
                key_id=key["id"], scopes=tuple(key["scopes"]), created_at=key.get("createdAt")
            )
            for key in document.get("apiKeys", [])
        ),
    )
