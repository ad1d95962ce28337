"""xAPI State documents in MongoDB (`xapi_state`): bytes, type, ETag, time, derived userId."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import Binary
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo import XAPI_STATE, Document, driver_errors, user_key
from shared.service_layer.xapi.ports import StateDocument, StateKey

__all__ = ["MongoStateStore"]


class MongoStateStore:
    """One document per (tenant, activity, agent, registration, stateId)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._state = db[XAPI_STATE]

    async def get(self, tenant_id: str, key: StateKey) -> StateDocument | None:
        """The document, or None."""
        async with driver_errors():
            found = await self._state.find_one({"_id": _id(tenant_id, key)})
        return None if found is None else _document(found)

    async def put(
        self,
        tenant_id: str,
        key: StateKey,
        user_id: str | None,
        document: StateDocument,
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
            "n": key.state_id,
            "c": Binary(document.content),
            "ct": document.content_type,
            "e": document.etag,
            "w": document.updated,
        }
        async with driver_errors():
            if expected_etag is None:
                try:
                    await self._state.insert_one(stored)
                except DuplicateKeyError:
                    return False
                return True
            result = await self._state.replace_one(
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
            found = await self._state.find(selector, {"n": 1}).to_list()
        return sorted(document["n"] for document in found)

    async def delete(
        self,
        tenant_id: str,
        activity_id: str,
        agent: str,
        registration: str | None,
        state_id: str | None,
    ) -> int:
        """Delete one document, or every one of the context; return how many."""
        selector = _context(tenant_id, activity_id, agent, registration)
        if state_id is not None:
            selector["n"] = state_id
        async with driver_errors():
            result = await self._state.delete_many(selector)
        return result.deleted_count


def _id(tenant_id: str, key: StateKey) -> str:
    return user_key(tenant_id, key.activity_id, key.agent, key.registration or "", key.state_id)


def _context(
    tenant_id: str, activity_id: str, agent: str, registration: str | None
) -> dict[str, Any]:
    return {"t": tenant_id, "a": activity_id, "g": agent, "r": registration}


def _document(found: Document) -> StateDocument:
    return StateDocument(bytes(found["c"]), found["ct"], found["e"], found["w"].astimezone(UTC))
