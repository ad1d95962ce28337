"""The `dead_letters` collection on MongoDB: what could not be projected, with its history.

A letter is `pending` until an operator replays it; replaying marks it `replayed` (with the
time and a count) instead of removing it, so the record of what failed survives until an
operator purges it. If the replayed event fails again, that failure is a new letter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.in_queries import slices
from shared.adapters.mongo import DEAD_LETTERS, Document, driver_errors
from shared.service_layer.dead_letter_records import (
    PENDING,
    REPLAYED,
    DeadLetter,
    LetterFilter,
    StoredLetter,
)
from shared.service_layer.deliveries import Attempt
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoDeadLetterStore"]


def _query(selection: LetterFilter) -> Document:
    """The MongoDB filter document of a letter selection."""
    query: Document = {}
    if selection.tenant_id is not None:
        query["tenant"] = selection.tenant_id
    if selection.since is not None:
        query["failedAt"] = {"$gte": selection.since}
    if selection.event_type is not None:
        query["type"] = selection.event_type
    if selection.state is not None:
        query["state"] = selection.state
    return query


def _from_document(document: Document) -> StoredLetter:
    original = document["original"]
    letter = DeadLetter(
        reason=document["reason"],
        raw=bytes(document["raw"]),
        key=bytes(document["key"]) if document.get("key") is not None else None,
        attempts=[Attempt.from_dict(item) for item in document["attempts"]],
        original_topic=original["topic"],
        original_partition=original["partition"],
        original_offset=original["offset"],
        request_id=document.get("requestId"),
        tenant_id=document.get("tenant"),
        user_id=document.get("user"),
        event_id=document.get("eventId"),
        event_type=document.get("type"),
    )
    return StoredLetter(
        letter_id=document["_id"],
        letter=letter,
        failed_at=document["failedAt"],
        state=document.get("state", PENDING),
        replays=document.get("replays", 0),
        replayed_at=document.get("replayedAt"),
    )


class MongoDeadLetterStore:
    """Stores dead letters for operators to list, explain, replay and purge.

    Every call raises `StoreUnavailable` when MongoDB cannot be reached in time.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._letters = db[DEAD_LETTERS]

    async def add(self, letter: DeadLetter) -> str:
        """Store one dead letter as `pending` and return its id.

        Idempotent: a message dead-lettered again after a redelivery has the same id, and
        the first stored version (with its state) is kept.
        """
        letter_id = letter.letter_id
        document: Document = {
            "reason": letter.reason,
            "raw": letter.raw,
            "key": letter.key,
            "attempts": [attempt.to_dict() for attempt in letter.attempts],
            "original": {
                "topic": letter.original_topic,
                "partition": letter.original_partition,
                "offset": letter.original_offset,
            },
            "requestId": letter.request_id,
            "tenant": letter.tenant_id,
            "user": letter.user_id,
            "eventId": letter.event_id,
            "type": letter.event_type,
            "failedAt": datetime.now(UTC),
            "state": PENDING,
            "replays": 0,
        }
        async with driver_errors():
            await self._letters.update_one(
                {"_id": letter_id}, {"$setOnInsert": document}, upsert=True
            )
        return letter_id

    async def holds(self, key: UserKey, event_ids: Sequence[str]) -> bool:
        """True when a letter holds one of these events of the user (indexed queries by slice)."""
        async with driver_errors():
            for part in slices(event_ids):
                query = {"tenant": key[0], "user": key[1], "eventId": {"$in": part}}
                if await self._letters.find_one(query, {"_id": 1}) is not None:
                    return True
        return False

    async def count(self, selection: LetterFilter | None = None) -> int:
        """How many stored letters match (all of them without a filter)."""
        query = _query(selection or LetterFilter())
        async with driver_errors():
            return await self._letters.count_documents(query)

    async def find(self, selection: LetterFilter, limit: int = 0) -> list[StoredLetter]:
        """The matching letters, newest first (`limit` 0: all of them)."""
        async with driver_errors():
            cursor = self._letters.find(_query(selection)).sort("failedAt", DESCENDING)
            documents = await cursor.limit(limit).to_list()
        return [_from_document(document) for document in documents]

    async def get(self, letter_id: str) -> StoredLetter | None:
        """One letter by id, or None when no letter has that id."""
        async with driver_errors():
            document = await self._letters.find_one({"_id": letter_id})
        return _from_document(document) if document is not None else None

    async def mark_replayed(self, letter_id: str) -> bool:
        """Record a replay (state `replayed`, time, count); False if the letter is gone."""
        async with driver_errors():
            result = await self._letters.update_one(
                {"_id": letter_id},
                {
                    "$set": {"state": REPLAYED, "replayedAt": datetime.now(UTC)},
                    "$inc": {"replays": 1},
                },
            )
        return result.matched_count == 1

    async def delete(self, letter_ids: Sequence[str]) -> int:
        """Delete these letters; return how many existed."""
        async with driver_errors():
            result = await self._letters.delete_many({"_id": {"$in": list(letter_ids)}})
        return result.deleted_count

    async def delete_matching(self, selection: LetterFilter) -> int:
        """Delete every letter the selection matches; return how many there were."""
        async with driver_errors():
            result = await self._letters.delete_many(_query(selection))
        return result.deleted_count
