"""The `dead_letters` collection: what could not be projected, with its whole history."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import DEAD_LETTERS, Document, outage_errors

__all__ = ["Attempt", "DeadLetter", "MongoDeadLetterStore"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed delivery attempt: its number, the error and when it happened."""

    attempt: int
    error: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as carried in headers and stored in dead letters."""
        return {"attempt": self.attempt, "error": self.error, "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event (or the raw bytes of an undecodable message) that will not be retried."""

    reason: str
    raw: bytes
    attempts: list[Attempt]
    original_topic: str
    original_partition: int
    original_offset: int
    request_id: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None


class MongoDeadLetterStore:
    """Stores dead letters for operators to list, explain and replay."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._letters = db[DEAD_LETTERS]

    async def add(self, letter: DeadLetter) -> str:
        """Store one dead letter and return its id.

        Idempotent: the id derives from the original coordinates and bytes, so a message
        dead-lettered again after a redelivery is stored once.
        """
        fingerprint = hashlib.sha256(
            f"{letter.original_topic}/{letter.original_partition}/{letter.original_offset}/".encode()
            + letter.raw
        )
        letter_id = fingerprint.hexdigest()[:32]
        document: Document = {
            "_id": letter_id,
            "reason": letter.reason,
            "raw": letter.raw,
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
        }
        async with outage_errors():
            await self._letters.replace_one({"_id": letter_id}, document, upsert=True)
        return letter_id

    async def count(self) -> int:
        """How many dead letters are stored."""
        async with outage_errors():
            return await self._letters.count_documents({})
