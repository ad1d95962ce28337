"""Trusted issuers in MongoDB: one document per (`iss`, `aud`) pair, so no two tenants share one.

The pair is the document's `_id`: a token without `tid` belongs to the one tenant that
registered its issuer and audience, and the database itself refuses a second claim on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.adapters.issuer_records import IssuerNotFound, IssuerTaken, TrustedIssuer
from shared.adapters.mongo import ISSUERS, TENANTS, Document, driver_errors, user_key
from shared.domain.tenants import TenantNotFound

__all__ = ["MongoIssuerStore"]


class MongoIssuerStore:
    """Registers, lists and removes the issuers tenants trust; finds them by `iss`."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._issuers = db[ISSUERS]
        self._tenants = db[TENANTS]

    async def add(self, issuer: TrustedIssuer) -> None:
        """Trust `issuer` for its tenant: one document per audience, all or none.

        Raises:
            TenantNotFound: If there is no such tenant.
            IssuerTaken: If the tenant already trusts this `iss`, or any of its (`iss`, `aud`)
                pairs is another tenant's (nothing is added).
            StoreUnavailable: If MongoDB cannot be reached.
        """
        async with driver_errors():
            if await self._tenants.find_one({"_id": issuer.tenant_id}, {"_id": 1}) is None:
                raise TenantNotFound(f"no tenant '{issuer.tenant_id}'")
            mine = await self._issuers.find_one({"tenant": issuer.tenant_id, "iss": issuer.issuer})
            if mine is not None:
                raise IssuerTaken(
                    f"tenant '{issuer.tenant_id}' already trusts issuer '{issuer.issuer}': "
                    "remove it first to change it"
                )
            try:
                await self._issuers.insert_many(_documents(issuer), ordered=True)
            except BulkWriteError as error:
                await self._issuers.delete_many({"tenant": issuer.tenant_id, "iss": issuer.issuer})
                raise IssuerTaken(
                    f"issuer '{issuer.issuer}' with one of the audiences "
                    f"{', '.join(issuer.audiences)} is already trusted by another tenant: a token "
                    "without 'tid' must name exactly one tenant"
                ) from error

    async def remove(self, tenant_id: str, issuer: str) -> None:
        """Stop trusting `issuer` for the tenant; gateways drop it within their cache's life.

        Raises:
            IssuerNotFound: If the tenant does not trust this issuer.
            StoreUnavailable: If MongoDB cannot be reached.
        """
        async with driver_errors():
            result = await self._issuers.delete_many({"tenant": tenant_id, "iss": issuer})
        if result.deleted_count == 0:
            raise IssuerNotFound(f"tenant '{tenant_id}' trusts no issuer '{issuer}'")

    async def of_tenant(self, tenant_id: str) -> list[TrustedIssuer]:
        """The issuers the tenant trusts, ordered by `iss`."""
        async with driver_errors():
            documents = await self._issuers.find({"tenant": tenant_id}).sort("_id").to_list()
        return _grouped(documents)

    async def named(self, issuer: str) -> list[TrustedIssuer]:
        """Every tenant's trust in the issuer `iss` (at most one per tenant)."""
        async with driver_errors():
            documents = await self._issuers.find({"iss": issuer}).sort("_id").to_list()
        return _grouped(documents)


def _documents(issuer: TrustedIssuer) -> list[Document]:
    now = datetime.now(UTC)
    return [
        {
            "_id": user_key(issuer.issuer, audience),
            "tenant": issuer.tenant_id,
            "iss": issuer.issuer,
            "aud": audience,
            "audiences": list(issuer.audiences),
            "algorithms": list(issuer.algorithms),
            "jwksUrl": issuer.jwks_url,
            "jwks": issuer.jwks_json,
            "userClaim": issuer.user_claim,
            "userPrefix": issuer.user_prefix,
            "createdAt": now,
        }
        for audience in issuer.audiences
    ]


def _grouped(documents: Iterable[Document]) -> list[TrustedIssuer]:
    """One issuer per (tenant, `iss`): its documents (one per audience) carry the same fields."""
    found: dict[tuple[str, str], TrustedIssuer] = {}
    for document in documents:
        found.setdefault(
            (document["tenant"], document["iss"]),
            TrustedIssuer(
                tenant_id=document["tenant"],
                issuer=document["iss"],
                audiences=tuple(document["audiences"]),
                algorithms=tuple(document["algorithms"]),
                jwks_url=document.get("jwksUrl"),
                jwks_json=document.get("jwks"),
                user_claim=document.get("userClaim", "sub"),
                user_prefix=document.get("userPrefix", ""),
            ),
        )
    return sorted(found.values(), key=lambda issuer: (issuer.issuer, issuer.tenant_id))
