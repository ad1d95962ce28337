"""The `parked_messages` collection: broker messages kept in MongoDB while the broker is down.

Only the embedded development stack parks (its broker keeps messages in memory). Each
message is stored under its content-derived id, so parking it again is a no-op, with the
tenant and user of its key so erasure finds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bson import Binary
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import PARKED, Document, driver_errors
from shared.service_layer.topic_messages import TopicMessage

__all__ = ["MongoParkedMessages"]


def _document(message: TopicMessage, at: datetime, position: int) -> Document:
    owner = message.owner
    return {
        "_id": message.message_id,
        "topic": message.topic,
        "key": None if message.key is None else Binary(message.key),
        "value": Binary(message.value),
        "headers": [[name, Binary(value)] for name, value in message.headers],
        "tenant": owner[0] if owner else None,
        "user": owner[1] if owner else None,
        "parkedAt": at,
        "n": position,
    }


def _message(document: Document) -> TopicMessage:
    key = document.get("key")
    return TopicMessage(
        topic=document["topic"],
        key=None if key is None else bytes(key),
        value=bytes(document["value"]),
        headers=tuple((str(name), bytes(value)) for name, value in document["headers"]),
    )


class MongoParkedMessages:
    """Parked messages, oldest first; one document per distinct message."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._parked = db[PARKED]

    async def park(self, messages: Sequence[TopicMessage]) -> int:
        """Keep those not kept yet (by `message_id`); return how many were new."""
        if not messages:
            return 0
        at = datetime.now(UTC)
        operations = [
            UpdateOne(
                {"_id": message.message_id},
                {"$setOnInsert": _document(message, at, position)},
                upsert=True,
            )
            for position, message in enumerate(messages)
        ]
        async with driver_errors():
            result = await self._parked.bulk_write(operations, ordered=True)
        return result.upserted_count

    async def all(self) -> list[TopicMessage]:
        """Every parked message, in the order it was parked."""
        async with driver_errors():
            documents = (
                await self._parked.find({})
                .sort([("parkedAt", ASCENDING), ("n", ASCENDING)])
                .to_list()
            )
        return [_message(document) for document in documents]

    async def remove(self, message_ids: Sequence[str]) -> int:
        """Forget these messages; return how many were parked."""
        async with driver_errors():
            result = await self._parked.delete_many({"_id": {"$in": list(message_ids)}})
        return result.deleted_count
