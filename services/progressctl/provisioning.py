"""One-off set-up steps shared by `progressctl` commands and the embedded stack."""

from __future__ import annotations

from shared.adapters.connections import connections
from shared.adapters.kafka import create_topics
from shared.adapters.settings import Settings
from shared.adapters.tenants import MongoTenantStore

__all__ = ["bootstrap_tenant", "prepare_stack"]


async def bootstrap_tenant(settings: Settings) -> None:
    """Create or refresh the bootstrap tenant from PROGRESS_BOOTSTRAP_* (idempotent)."""
    async with connections(settings) as opened:
        await MongoTenantStore(opened.db).bootstrap(
            settings.bootstrap_tenant,
            settings.bootstrap_api_key.get_secret_value(),
            settings.bootstrap_signing_secret.get_secret_value(),
        )


async def prepare_stack(settings: Settings) -> list[str]:
    """Topics, indexes and the bootstrap tenant; returns the topics that were created."""
    created = await create_topics(settings)
    await bootstrap_tenant(settings)
    return created
