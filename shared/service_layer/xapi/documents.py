"""The document resources (State, Activity Profile, Agent Profile) with ETag concurrency.

One use case for all three: they differ only in their parameters (`DocumentAddress`), in
the store they live in (State documents apart from profiles) and in 1.0.3's leniency for
State writes without a precondition (`check_preconditions`).

A write checks If-Match / If-None-Match against the stored ETag, then stores with a
compare-and-set on that ETag; when another writer came in between, the preconditions are
checked again on what it wrote, so two writers never both win a conditional write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.service_layer.ports import Clock
from shared.service_layer.xapi.erased_learners import ErasedCheck, refuse_erased
from shared.service_layer.xapi.ports import (
    DocumentKey,
    DocumentStore,
    StoredDocument,
    Usage,
    UsageStore,
)
from shared.service_layer.xapi.quotas import QuotaExceeded, XapiQuotas
from shared.xapi import (
    TENANT_OWNER,
    DocumentAddress,
    InvalidStatement,
    UserRule,
    XapiVersion,
    check_preconditions,
    document_etag,
    merged_document,
    quota_owner,
    user_id_for,
)

__all__ = ["MAX_DOCUMENT_BYTES", "Documents", "Preconditions"]

MAX_DOCUMENT_BYTES = 1024 * 1024
"""The largest document stored (the gateway's JSON body bound)."""
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Preconditions:
    """A request's conditional headers and version (2.0.0 refuses a blind overwrite)."""

    if_match: str | None
    if_none_match: str | None
    version: XapiVersion


class Documents:
    """Reads and writes the documents of the three document resources."""

    def __init__(
        self,
        state: DocumentStore,
        profiles: DocumentStore,
        clock: Clock,
        erased: ErasedCheck,
        usage: UsageStore,
        quotas: XapiQuotas,
    ) -> None:
        self._state = state
        self._profiles = profiles
        self._clock = clock
        self._erased = erased
        self._usage = usage
        self._quotas = quotas

    def _store(self, address: DocumentAddress) -> DocumentStore:
        return self._state if address.resource == "state" else self._profiles

    async def get(self, tenant_id: str, address: DocumentAddress) -> StoredDocument | None:
        """The one document the address names (its id is set), or None."""
        return await self._store(address).get(tenant_id, _key(address))

    async def ids(self, tenant_id: str, address: DocumentAddress) -> list[str]:
        """The ids of the address's context, updated after its `since` when given."""
        return await self._store(address).ids(
            tenant_id, address.activity_id, address.agent, address.registration, address.since
        )

    async def write(
        self,
        tenant_id: str,
        method: Literal["PUT", "POST"],
        address: DocumentAddress,
        content: bytes,
        content_type: str,
        conditions: Preconditions,
        users: UserRule,
    ) -> StoredDocument:
        """Store a PUT (replace) or POST (merge JSON objects) under the preconditions.

        The document is kept with the userId `users` (the tenant's rule) maps the address's
        agent to; an Activity Profile document (no agent) belongs to no user.

        Raises:
            DocumentConflict: 412 / 409 as `check_preconditions` says.
            InvalidStatement: A POST that cannot be merged (naming the document).
            UserErased: The agent maps to an erased learner; nothing is stored.
            QuotaExceeded: A new document would pass its learner's (or, for an Activity
                Profile, its tenant's) document quota; nothing is stored.
        """
        key, store = _key(address), self._store(address)
        user_id, owner = _owner(address, users)
        await refuse_erased(self._erased, tenant_id, [user_id], "agent")
        for _ in range(_ATTEMPTS):
            current = await store.get(tenant_id, key)
            check_preconditions(
                method,
                current.etag if current else None,
                if_match=conditions.if_match,
                if_none_match=conditions.if_none_match,
                version=conditions.version,
                resource=address.resource,
            )
            data = content
            kind = content_type
            if method == "POST":
                data = merged_document(
                    current.content if current else None,
                    current.content_type if current else None,
                    content,
                    content_type,
                )
                kind = "application/json" if current else content_type
            if len(data) > MAX_DOCUMENT_BYTES:
                raise InvalidStatement("document", f"exceeds {MAX_DOCUMENT_BYTES} bytes")
            if current is None:
                await self._check_quota(tenant_id, owner)
            document = StoredDocument(data, kind, document_etag(data), self._clock.now())
            expected = current.etag if current else None
            if await store.put(tenant_id, key, user_id, document, expected):
                if current is None:
                    await self._usage.add(tenant_id, owner, user_id, Usage(documents=1))
                return document
        raise InvalidStatement("document", "is being written by others too often; retry")

    async def _check_quota(self, tenant_id: str, owner: str) -> None:
        """Refuse a new document past `owner`'s quota (State and Agent Profiles together)."""
        stored = (await self._usage.usage(tenant_id, owner)).documents
        limit = self._quotas.documents
        if stored >= limit:
            whose = "the tenant's Activity Profiles" if owner == TENANT_OWNER else "the agent"
            raise QuotaExceeded(
                "documents",
                "activityId" if owner == TENANT_OWNER else "agent",
                f"{whose} hold {stored} documents; at most {limit} are stored "
                "(PROGRESS_XAPI_QUOTA_DOCUMENTS)",
            )

    async def delete(
        self,
        tenant_id: str,
        address: DocumentAddress,
        conditions: Preconditions,
        users: UserRule,
    ) -> int:
        """Delete the named document (checking the preconditions) or every one of the context.

        What is deleted no longer counts against its owner's document quota (`users` maps
        the address's agent to that owner, as `write` does).
        """
        store = self._store(address)
        if address.document_id is not None:
            current = await store.get(tenant_id, _key(address))
            check_preconditions(
                "DELETE",
                current.etag if current else None,
                if_match=conditions.if_match,
                if_none_match=conditions.if_none_match,
                version=conditions.version,
                resource=address.resource,
            )
        deleted = await store.delete(
            tenant_id, address.activity_id, address.agent, address.registration, address.document_id
        )
        if deleted:
            user_id, owner = _owner(address, users)
            await self._usage.add(tenant_id, owner, user_id, Usage(documents=-deleted))
        return deleted


def _owner(address: DocumentAddress, users: UserRule) -> tuple[str | None, str]:
    """The userId the address's agent maps to (None for none), and its quota owner."""
    user_id = None if address.actor is None else user_id_for(address.actor, users)
    return user_id, quota_owner(user_id, address.agent)


def _key(address: DocumentAddress) -> DocumentKey:
    assert address.document_id is not None, "a single document needs its id"
    return DocumentKey(
        address.activity_id, address.agent, address.registration, address.document_id
    )
