"""Tenants in MongoDB: API keys (stored only as hashes) with scopes, and the signing secret."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import TENANTS, Document, outage_errors

__all__ = ["ALL_SCOPES", "ApiKeyGrant", "MongoTenantStore", "hash_api_key"]

ALL_SCOPES: tuple[str, ...] = ("write", "read", "admin")


def hash_api_key(api_key: str) -> str:
    """The stored form of an API key. Keys are long random strings, so SHA-256 suffices."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKeyGrant:
    """What a valid API key grants: its tenant and scopes."""

    tenant_id: str
    scopes: frozenset[str]


class MongoTenantStore:
    """Looks up credentials and provisions tenants. Plain API keys are never stored or logged."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tenants = db[TENANTS]

    async def grant_for_key(self, api_key: str) -> ApiKeyGrant | None:
        """The tenant and scopes of this API key, or None for an unknown key."""
        digest = hash_api_key(api_key)
        async with outage_errors():
            tenant = await self._tenants.find_one({"apiKeys.hash": digest}, {"apiKeys": 1})
        if tenant is None:
            return None
        for key in tenant["apiKeys"]:
            if key["hash"] == digest:
                return ApiKeyGrant(tenant_id=tenant["_id"], scopes=frozenset(key["scopes"]))
        return None

    async def signing_secret(self, tenant_id: str) -> str | None:
        """The tenant's HS256 secret for user tokens, or None for an unknown tenant."""
        async with outage_errors():
            tenant = await self._tenants.find_one({"_id": tenant_id}, {"signingSecret": 1})
        return None if tenant is None else str(tenant["signingSecret"])

    async def bootstrap(self, tenant_id: str, api_key: str, signing_secret: str) -> None:
        """Make sure the tenant exists with this API key (all scopes) and signing secret.

        Idempotent: running it at every start replaces only the key named `bootstrap`.
        """
        bootstrap_key = {
            "id": "bootstrap",
            "hash": hash_api_key(api_key),
            "scopes": list(ALL_SCOPES),
            "createdAt": datetime.now(UTC),
        }
        async with outage_errors():
            await self._tenants.update_one(
                {"_id": tenant_id},
                {
                    "$setOnInsert": {"createdAt": datetime.now(UTC)},
                    "$set": {"signingSecret": signing_secret},
                    "$pull": {"apiKeys": {"id": "bootstrap"}},
                },
                upsert=True,
            )
            await self._tenants.update_one(
                {"_id": tenant_id}, {"$push": {"apiKeys": bootstrap_key}}
            )
