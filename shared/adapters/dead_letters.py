"""The `dead_letters` collection: what could not be projected, with its whole history.

A letter is `pending` until an operator replays it; replaying marks it `replayed` (with the
time and a count) instead of removing it, so the record of what failed survives until an
operator purges it. If the replayed event fails again, that failure is a new letter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import DEAD_LETTERS, Document, outage_errors

__all__ = [
    "PENDING",
    "REPLAYED",
    "Attempt",
    "DeadLetter",
    "LetterFilter",
    "MongoDeadLetterStore",
    "StoredLetter",
]

LetterState = Literal["pending", "replayed"]
PENDING: LetterState = "pending"
REPLAYED: LetterState = "replayed"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed delivery attempt: its number, the error and when it happened."""

    attempt: int
    error: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as carried in headers and stored in dead letters."""
        return {"attempt": self.attempt, "error": self.error, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> Attempt:
        """Read what `to_dict` wrote."""
        return cls(int(item["attempt"]), str(item["error"]), datetime.fromisoformat(item["at"]))


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event (or the raw bytes of an undecodable message) that will not be retried."""

    reason: str
    raw: bytes
    key: bytes | None
    attempts: list[Attempt]
    original_topic: str
    original_partition: int
    original_offset: int
    request_id: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None

    @property
    def letter_id(self) -> str:
        """Derived from the original coordinates and bytes: one message, one letter."""
        fingerprint = hashlib.sha256(
            f"{self.original_topic}/{self.original_partition}/{self.original_offset}/".encode()
            + self.raw
        )
        return fingerprint.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class StoredLetter:
    """A dead letter as stored, with its id, state and replay history."""

    letter_id: str
    letter: DeadLetter
    failed_at: datetime
    state: LetterState
    replays: int
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LetterFilter:
    """Which letters to select; every field left `None` selects all."""

    tenant_id: str | None = None
    since: datetime | None = None
    event_type: str | None = None
    state: LetterState | None = None

    def query(self) -> Document:
        """The MongoDB filter document."""
        query: Document = {}
        if self.tenant_id is not None:
            query["tenant"] = self.tenant_id
        if self.since is not None:
            query["failedAt"] = {"$gte": self.since}
        if self.event_type is not None:
            query["type"] = self.event_type
        if self.state is not None:
            query["state"] = self.state
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
        async with outage_errors():
            await self._letters.update_one(
                {"_id": letter_id}, {"$setOnInsert": document}, upsert=True
            )
        return letter_id

    async def count(self, selection: LetterFilter | None = None) -> int:
        """How many stored letters match (all of them without a filter)."""
        query = (selection or LetterFilter()).query()
        async with outage_errors():
            return await self._letters.count_documents(query)

    async def find(self, selection: LetterFilter, limit: int = 0) -> list[StoredLetter]:
        """The matching letters, newest first (`limit` 0: all of them)."""
        async with outage_errors():
            cursor = self._letters.find(selection.query()).sort("failedAt", DESCENDING)
            documents = await cursor.limit(limit).to_list()
        return [_from_document(document) for document in documents]

    async def get(self, letter_id: str) -> StoredLetter | None:
        """One letter by id, or None when no letter has that id."""
        async with outage_errors():
            document = await self._letters.find_one({"_id": letter_id})
        return _from_document(document) if document is not None else None

    async def mark_replayed(self, letter_id: str) -> bool:
        """Record a replay (state `replayed`, time, count); False if the letter is gone."""
        async with outage_errors():
            result = await self._letters.update_one(
                {"_id": letter_id},
                {
                    "$set": {"state": REPLAYED, "replayedAt": datetime.now(UTC)},
                    "$inc": {"replays": 1},
                },
            )
        return result.matched_count == 1

    async def delete(self, letter_ids: list[str]) -> int:
        """Delete these letters; return how many existed."""
        async with outage_errors():
            result = await self._letters.delete_many({"_id": {"$in": letter_ids}})
        return result.deleted_count

    async def delete_all(self) -> int:
        """Delete every letter; return how many there were."""
        async with outage_errors():
            result = await self._letters.delete_many({})
        return result.deleted_count
