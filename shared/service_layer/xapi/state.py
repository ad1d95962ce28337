"""The State Resource: per activity, agent (and registration) documents with ETag concurrency.

A write checks If-Match / If-None-Match against the stored ETag, then stores with a
compare-and-set on that ETag; when another writer came in between, the preconditions are
checked again on what it wrote, so two writers never both win a conditional write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shared.service_layer.ports import Clock
from shared.service_layer.xapi.ports import StateDocument, StateKey, StateStore
from shared.xapi import (
    InvalidStatement,
    StateAddress,
    UserRule,
    XapiVersion,
    check_preconditions,
    document_etag,
    merged_document,
    user_id_for,
)

__all__ = ["MAX_DOCUMENT_BYTES", "Preconditions", "StateDocuments"]

MAX_DOCUMENT_BYTES = 1024 * 1024
"""The largest State document stored (the gateway's JSON body bound)."""
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Preconditions:
    """A request's conditional headers and version (2.0.0 refuses a blind overwrite)."""

    if_match: str | None
    if_none_match: str | None
    version: XapiVersion


class StateDocuments:
    """Reads and writes State documents of one tenant."""

    def __init__(self, store: StateStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def get(self, tenant_id: str, address: StateAddress) -> StateDocument | None:
        """The one document the address names (its stateId is set), or None."""
        return await self._store.get(tenant_id, _key(address))

    async def ids(self, tenant_id: str, address: StateAddress) -> list[str]:
        """The stateIds of the address's context, updated after its `since` when given."""
        return await self._store.ids(
            tenant_id, address.activity_id, address.agent, address.registration, address.since
        )

    async def write(
        self,
        tenant_id: str,
        method: Literal["PUT", "POST"],
        address: StateAddress,
        agent: dict[str, Any],
        content: bytes,
        content_type: str,
        conditions: Preconditions,
        users: UserRule,
    ) -> StateDocument:
        """Store a PUT (replace) or POST (merge JSON objects) under the preconditions.

        The document is kept with the userId `users` (the tenant's rule) maps `agent` to.

        Raises:
            DocumentConflict: 412 / 409 as `check_preconditions` says.
            InvalidStatement: A POST that cannot be merged (naming the document).
        """
        key = _key(address)
        user_id = user_id_for(agent, users)
        for _ in range(_ATTEMPTS):
            current = await self._store.get(tenant_id, key)
            check_preconditions(
                method,
                current.etag if current else None,
                if_match=conditions.if_match,
                if_none_match=conditions.if_none_match,
                version=conditions.version,
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
            document = StateDocument(data, kind, document_etag(data), self._clock.now())
            expected = current.etag if current else None
            if await self._store.put(tenant_id, key, user_id, document, expected):
                return document
        raise InvalidStatement("document", "is being written by others too often; retry")

    async def delete(self, tenant_id: str, address: StateAddress, conditions: Preconditions) -> int:
        """Delete the named document (checking the preconditions) or every one of the context."""
        if address.state_id is not None:
            current = await self._store.get(tenant_id, _key(address))
            check_preconditions(
                "DELETE",
                current.etag if current else None,
                if_match=conditions.if_match,
                if_none_match=conditions.if_none_match,
                version=conditions.version,
            )
        return await self._store.delete(
            tenant_id, address.activity_id, address.agent, address.registration, address.state_id
        )


def _key(address: StateAddress) -> StateKey:
    assert address.state_id is not None, "a single document needs its stateId"
    return StateKey(address.activity_id, address.agent, address.registration, address.state_id)
