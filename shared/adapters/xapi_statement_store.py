"""xAPI statements and attachment data in MongoDB (`xapi_statements`, `xapi_attachments`).

A statement is kept as its JSON text (extension keys are IRIs with dots, which a document's
field names had better not carry) beside what it is found by: `filter_keys` under `k`, the
stored time `s`, the id `i`, the voided flag `v`, the derived userId `u` (for erasure) and
a signed statement's signature status `g` (`verified` or `unverified`). Attachment data
keeps its byte size `n` beside it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bson import Binary
from pymongo import ASCENDING, DESCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.adapters.in_queries import find_in
from shared.adapters.mongo import (
    DUPLICATE_KEY,
    XAPI_ATTACHMENTS,
    XAPI_STATEMENTS,
    Document,
    driver_errors,
    refused_entries,
    user_key,
)
from shared.service_layer.xapi.ports import Attachment, StatementRecord
from shared.xapi import StatementQuery, filter_keys

__all__ = ["MongoStatementStore"]


class MongoStatementStore:
    """One document per (tenant, statement id); attachment data once per tenant, user, SHA-2."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._statements = db[XAPI_STATEMENTS]
        self._attachments = db[XAPI_ATTACHMENTS]

    async def get_many(self, tenant_id: str, ids: Sequence[str]) -> dict[str, StatementRecord]:
        """The stored statements among these ids (lowercase), by id."""
        if not ids:
            return {}
        async with driver_errors():
            found = await find_in(
                self._statements, "_id", [user_key(tenant_id, sid) for sid in ids]
            )
        return {document["i"]: _record(document) for document in found}

    async def insert(self, tenant_id: str, records: Sequence[StatementRecord]) -> set[str]:
        """Store each record unless its id is taken; return the ids that were taken."""
        if not records:
            return set()
        operations = [InsertOne(_document(tenant_id, record)) for record in records]
        async with driver_errors():
            try:
                await self._statements.bulk_write(operations, ordered=False)
            except BulkWriteError as error:
                refused = refused_entries(error)
                if any(item.get("code") != DUPLICATE_KEY for item in refused.values()):
                    raise
                return {records[index].statement_id for index in refused}
        return set()

    async def void(self, tenant_id: str, statement_id: str) -> None:
        """Mark a stored statement voided (a no-op for an unknown id)."""
        async with driver_errors():
            await self._statements.update_one(
                {"_id": user_key(tenant_id, statement_id)}, {"$set": {"v": True}}
            )

    async def find(
        self,
        tenant_id: str,
        query: StatementQuery,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[StatementRecord]:
        """Unvoided statements passing the filters, by (stored, id), newest first by default."""
        selector: Document = {"t": tenant_id, "v": False}
        if query.agent is not None:
            selector["k.relatedAgents" if query.related_agents else "k.agents"] = query.agent
        if query.activity is not None:
            field = "k.relatedActivities" if query.related_activities else "k.activities"
            selector[field] = query.activity
        if query.verb is not None:
            selector["k.verb"] = query.verb
        if query.registration is not None:
            selector["k.registration"] = query.registration
        if query.learner is not None:
            selector["u"] = query.learner
        stored: Document = {}
        if query.since is not None:
            stored["$gt"] = query.since
        if query.until is not None:
            stored["$lte"] = query.until
        if stored:
            selector["s"] = stored
        direction = ASCENDING if query.ascending else DESCENDING
        if after is not None:
            beyond = "$gt" if query.ascending else "$lt"
            selector["$or"] = [
                {"s": {beyond: after[0]}},
                {"s": after[0], "i": {beyond: after[1]}},
            ]
        async with driver_errors():
            found = (
                await self._statements.find(selector)
                .sort([("s", direction), ("i", direction)])
                .limit(limit)
                .to_list()
            )
        return [_record(document) for document in found]

    async def put_attachments(
        self, tenant_id: str, user_id: str | None, attachments: Sequence[Attachment]
    ) -> None:
        """Keep attachment data; a SHA-2 this user already has is not written again."""
        operations = [
            UpdateOne(
                {"_id": user_key(tenant_id, user_id or "", item.sha2)},
                {
                    "$setOnInsert": {
                        "t": tenant_id,
                        "u": user_id,
                        "n": len(item.data),
                        "h": item.sha2,
                        "c": item.content_type,
                        "d": Binary(item.data),
                    }
                },
                upsert=True,
            )
            for item in attachments
        ]
        async with driver_errors():
            await self._attachments.bulk_write(operations, ordered=False)

    async def attachment_sizes(self, tenant_id: str, sha2s: Sequence[str]) -> dict[str, int]:
        """The byte size of the kept attachment data among these SHA-2s, without loading it."""
        async with driver_errors():
            found = await self._attachments.find(
                {"t": tenant_id, "h": {"$in": list(sha2s)}}, {"h": 1, "n": 1}
            ).to_list()
        return {d["h"]: int(d.get("n", 0)) for d in found}

    async def attachments(self, tenant_id: str, sha2s: Sequence[str]) -> dict[str, Attachment]:
        """The kept attachment data among these SHA-2s, by SHA-2."""
        async with driver_errors():
            found = await self._attachments.find(
                {"t": tenant_id, "h": {"$in": list(sha2s)}}
            ).to_list()
        return {d["h"]: Attachment(d["h"], d["c"], bytes(d["d"])) for d in found}


def _document(tenant_id: str, record: StatementRecord) -> Document:
    return {
        "_id": user_key(tenant_id, record.statement_id),
        "t": tenant_id,
        "i": record.statement_id,
        "u": record.user_id,
        "s": record.stored,
        "v": record.voided,
        "k": _keys(record),
        "j": json.dumps(record.statement, separators=(",", ":"), ensure_ascii=False),
        "r": None if record.target is None else json.dumps(record.target),
        "g": record.signature,
    }


def _keys(record: StatementRecord) -> Document:
    """The statement's filter keys, joined with its StatementRef target's (lists of each)."""
    own = filter_keys(record.statement)
    keys: Document = {name: [value] if name in _SCALARS else value for name, value in own.items()}
    if record.target is not None:
        for name, value in filter_keys(record.target).items():
            joined = keys[name] + ([value] if name in _SCALARS else value)
            keys[name] = sorted({item for item in joined if item is not None})
    return keys


_SCALARS = ("verb", "registration")


def _record(document: dict[str, Any]) -> StatementRecord:
    return StatementRecord(
        statement=json.loads(document["j"]),
        stored=document["s"].astimezone(UTC),
        user_id=document.get("u"),
        voided=bool(document.get("v")),
        target=json.loads(document["r"]) if document.get("r") else None,
        signature=document.get("g"),
    )
