"""xAPI documents in MongoDB: bytes, type, ETag, time, derived userId.

State documents live in `xapi_state`, Activity and Agent Profile documents in
`xapi_profiles` (`state_documents`, `profile_documents`); both join erasure by userId.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import Binary
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo import XAPI_PROFILES, XAPI_STATE, Document, driver_errors, user_key
from shared.service_layer.xapi.ports import DocumentKey, StoredDocument

__all__ = ["MongoDocumentStore", "profile_documents", "state_documents"]


class MongoDocumentStore:
    """One document per (tenant, activity, agent, registration, document id) in a collection."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._documents = collection

    async def get(self, tenant_id: str, key: DocumentKey) -> StoredDocument | None:
        """The document, or None."""
        async with driver_errors():
            found = await self._documents.find_one({"_id": _id(tenant_id, key)})
        return None if found is None else _document(found)

    async def put(
        self,
        tenant_id: str,
        key: DocumentKey,
        user_id: str | None,
        document: StoredDocument,
        expected_etag: str | None,
    ) -> bool:
        """Write if the stored ETag is still `expected_etag` (None: no document yet)."""
        stored = {
            "_id": _id(tenant_id, key),
            "t": tenant_id,
            "u": user_id,
            "a": key.activity_id,
            "g": key.agent,
            "r": key.registration,
            "n": key.document_id,
            "c": Binary(document.content),
            "ct": document.content_type,
            "e": document.etag,
            "w": document.updated,
        }
        async with driver_errors():
            if expected_etag is None:
                try:
                    await self._documents.insert_one(stored)
                except DuplicateKeyError:
                    return False
                return True
            result = await self._documents.replace_one(
                {"_id": stored["_id"], "e": expected_etag}, stored
            )
        return result.matched_count == 1

    async def ids(
        self,
        tenant_id: str,
        activity_id: str,
        agent: str,
        registration: str | None,
        since: datetime | None,
    ) -> list[str]:
        """The stateIds of a context (updated after `since`, when given), sorted."""
        selector = _context(tenant_id, activity_id, agent, registration)
        if since is not None:
            selector["w"] = {"$gt": since}
        async with driver_errors():
            found = await self._documents.find(selector, {"n": 1}).to_list()
        return sorted(document["n"] for document in found)

    async def delete(
        self,
        tenant_id: str,
        activity_id: str,
        agent: str,
        registration: str | None,
        document_id: str | None,
    ) -> int:
        """Delete one document, or every one of the context; return how many."""
        selector = _context(tenant_id, activity_id, agent, registration)
        if document_id is not None:
            selector["n"] = document_id
        async with driver_errors():
            result = await self._documents.delete_many(selector)
        return result.deleted_count


def state_documents(db: AsyncDatabase[Document]) -> MongoDocumentStore:
    """The State Resource's documents."""
    return MongoDocumentStore(db[XAPI_STATE])


def profile_documents(db: AsyncDatabase[Document]) -> MongoDocumentStore:
    """The Activity Profile and Agent Profile resources' documents."""
    return MongoDocumentStore(db[XAPI_PROFILES])


def _id(tenant_id: str, key: DocumentKey) -> str:
    return user_key(tenant_id, key.activity_id, key.agent, key.registration or "", key.document_id)


def _context(
    tenant_id: str, activity_id: str, agent: str, registration: str | None
) -> dict[str, Any]:
    return {"t": tenant_id, "a": activity_id, "g": agent, "r": registration}


def _document(found: Document) -> StoredDocument:
    return StoredDocument(bytes(found["c"]), found["ct"], found["e"], found["w"].astimezone(UTC))
