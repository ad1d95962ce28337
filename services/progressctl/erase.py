"""`progressctl erase`: delete a user's events, snapshot and dead letters, with an audit entry."""

from __future__ import annotations

import json

import typer

from services.progressctl.common import with_database
from shared.adapters.user_data_store import MongoUserDataStore
from shared.service_layer.erasure import erase_user

__all__ = ["erase"]


def erase(
    tenant: str = typer.Option(..., "--tenant", help="The user's tenant."),
    user: str = typer.Option(..., "--user", help="The user to erase."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Erase a user everywhere they are stored (right to be forgotten); cannot be undone."""
    if not yes and not typer.confirm(f"Erase every record of user {user!r} in tenant {tenant!r}?"):
        raise typer.Exit(1)
    deleted = with_database(lambda opened: erase_user(MongoUserDataStore(opened.db), tenant, user))
    if as_json:
        typer.echo(json.dumps(deleted))
    else:
        typer.echo(
            ", ".join(f"{count} from {name}" for name, count in deleted.items()) + " deleted"
        )
