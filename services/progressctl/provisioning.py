"""One-off set-up steps shared by `progressctl` commands and the embedded stack."""

from __future__ import annotations

from shared.adapters.connections import connections
from shared.adapters.settings import Settings
from shared.adapters.tenants import mongo_tenants
from shared.adapters.topic_admin import create_topics

__all__ = ["bootstrap_tenant", "prepare_stack", "reapply_development_tenant"]


async def bootstrap_tenant(settings: Settings) -> bool:
    """Create the tenant named by PROGRESS_BOOTSTRAP_* if it is missing; True if created.

    An existing tenant is left as it is, keys and secret included: a redeploy (the compose
    init job runs this at every `up`) must never undo a rotation.
    """
    async with connections(settings) as opened:
        return await mongo_tenants(opened.db).create_if_missing(
            settings.bootstrap_tenant,
            settings.bootstrap_api_key.get_secret_value(),
            settings.bootstrap_signing_secret.get_secret_value(),
        )


async def reapply_development_tenant(settings: Settings) -> None:
    """Create the bootstrap tenant, or reset its `bootstrap` key and secret to the settings'.

    Only the development stack does this (`make run`, the test suite): it prints these very
    credentials in its banner, so they must work whatever an earlier session rotated.
    """
    async with connections(settings) as opened:
        await mongo_tenants(opened.db).reset_credentials(
            settings.bootstrap_tenant,
            settings.bootstrap_api_key.get_secret_value(),
            settings.bootstrap_signing_secret.get_secret_value(),
        )


async def prepare_stack(settings: Settings) -> list[str]:
    """Topics, indexes and the development tenant (credentials re-applied); the topics created."""
    created = await create_topics(settings)
    await reapply_development_tenant(settings)
    return created
