"""One-off set-up steps shared by `progressctl` commands and the embedded stack."""

from __future__ import annotations

from shared.adapters.kafka import create_topics
from shared.adapters.mongo import ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.tenants import MongoTenantStore

__all__ = ["bootstrap_tenant", "prepare_stack"]


async def bootstrap_tenant(settings: Settings) -> None:
    """Create or refresh the bootstrap tenant from PROGRESS_BOOTSTRAP_* (idempotent)."""
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        await ensure_indexes(db)
        await MongoTenantStore(db).bootstrap(
            settings.bootstrap_tenant,
            settings.bootstrap_api_key.get_secret_value(),
            settings.bootstrap_signing_secret.get_secret_value(),
        )
    finally:
        await client.close()


async def prepare_stack(settings: Settings) -> list[str]:
    """Topics, indexes and the bootstrap tenant; returns the topics that were created."""
    created = await create_topics(settings)
    await bootstrap_tenant(settings)
    return created
