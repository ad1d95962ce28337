"""`progressctl erase`: delete a user's events, snapshot and dead letters, with an audit entry."""

from __future__ import annotations

import asyncio
import json

import typer

from services.progressctl.common import load_settings, unavailable
from shared.adapters.erasure import erase_user
from shared.adapters.errors import StoreUnavailable
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings

__all__ = ["erase"]


async def _erase(settings: Settings, tenant: str, user: str) -> dict[str, int]:
    client = mongo_client(settings)
    try:
        return await erase_user(client[settings.mongo_database], tenant, user)
    finally:
        await client.close()


def erase(
    tenant: str = typer.Option(..., "--tenant", help="The user's tenant."),
    user: str = typer.Option(..., "--user", help="The user to erase."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Erase a user everywhere they are stored (right to be forgotten); cannot be undone."""
    if not yes and not typer.confirm(f"Erase every record of user {user!r} in tenant {tenant!r}?"):
        raise typer.Exit(1)
    try:
        deleted = asyncio.run(_erase(load_settings(), tenant, user))
    except StoreUnavailable as error:
        raise unavailable(error) from error
    if as_json:
        typer.echo(json.dumps(deleted))
    else:
        typer.echo(
            ", ".join(f"{count} from {name}" for name, count in deleted.items()) + " deleted"
        )
