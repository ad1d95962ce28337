"""Erasing one user everywhere Progress Sync stores them (the right to be forgotten)."""

from __future__ import annotations

from shared.service_layer.ports import UserDataStore

__all__ = ["erase_user"]


async def erase_user(store: UserDataStore, tenant_id: str, user_id: str) -> dict[str, int]:
    """Delete the user's documents from every collection; audit the erasure.

    Returns how many documents each collection lost. The audit entry records the tenant and
    those counts, never the user id. Idempotent: erasing again deletes nothing more. Events
    still in Kafka topics are not touched; they expire with the topics' retention.
    """
    deleted = await store.erase(tenant_id, user_id)
    await store.audit("erase", tenant_id, deleted)
    return deleted
