"""Erasing one user everywhere Progress Sync stores them (the right to be forgotten)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.mongo import (
    CERTIFICATES,
    DEAD_LETTERS,
    EVENTS,
    SNAPSHOTS,
    Document,
    outage_errors,
)

__all__ = ["AUDIT", "USER_DATA", "erase_user"]

AUDIT = "audit"

USER_DATA: dict[str, tuple[str, str]] = {
    EVENTS: ("t", "u"),
    SNAPSHOTS: ("t", "u"),
    DEAD_LETTERS: ("tenant", "user"),
    CERTIFICATES: ("t", "u"),
}
"""Each collection holding a user's data, with its tenant and user fields."""


async def erase_user(db: AsyncDatabase[Document], tenant_id: str, user_id: str) -> dict[str, int]:
    """Delete the user's documents from every collection in `USER_DATA`; audit the erasure.

    Returns how many documents each collection lost. The audit entry records the tenant, the
    time and those counts, never the user id. Idempotent: erasing again deletes nothing more.
    Events still in Kafka topics are not touched; they expire with the topics' retention.
    """
    deleted: dict[str, int] = {}
    async with outage_errors():
        for collection, (tenant_field, user_field) in USER_DATA.items():
            result = await db[collection].delete_many(
                {tenant_field: tenant_id, user_field: user_id}
            )
            deleted[collection] = result.deleted_count
        await db[AUDIT].insert_one(
            {
                "_id": uuid.uuid4().hex,
                "action": "erase",
                "tenant": tenant_id,
                "at": datetime.now(UTC),
                "deleted": deleted,
            }
        )
    return deleted
