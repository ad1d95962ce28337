"""`progressctl erase` and `progressctl reenable`: forget a user, or let an erased id back in."""

from __future__ import annotations

import json

import typer

from services.progressctl.common import EXIT_CONFLICT, change_announcer, with_database
from shared.adapters.connections import Connections
from shared.adapters.settings import Settings
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.user_data_store import MongoUserDataStore
from shared.service_layer.erasure import erase_user, reenable_user

__all__ = ["erase", "reenable"]


def _stores(opened: Connections) -> tuple[MongoTombstoneStore, MongoUserDataStore]:
    secret = Settings().erasure_secret.get_secret_value().encode()
    return MongoTombstoneStore(opened.db, secret), MongoUserDataStore(opened.db)


async def _erase(opened: Connections, tenant: str, user: str) -> dict[str, int]:
    """Erase the user and announce the emptied snapshot on `progress.changes`."""
    return await erase_user(*_stores(opened), tenant, user, change_announcer(opened, "erase"))


def erase(
    tenant: str = typer.Option(..., "--tenant", help="The user's tenant."),
    user: str = typer.Option(..., "--user", help="The user to erase."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Erase a user everywhere they are stored (right to be forgotten); cannot be undone.

    A tombstone (a keyed hash of the id, never the id) stays: the gateway answers the
    user's writes with 410 and projectors drop events of theirs still in flight, until an
    operator runs `progressctl reenable`.
    """
    if not yes and not typer.confirm(f"Erase every record of user {user!r} in tenant {tenant!r}?"):
        raise typer.Exit(1)
    deleted = with_database(lambda opened: _erase(opened, tenant, user), broker=True)
    if as_json:
        typer.echo(json.dumps(deleted))
    else:
        typer.echo(
            ", ".join(f"{count} from {name}" for name, count in deleted.items()) + " deleted"
        )


def reenable(
    tenant: str = typer.Option(..., "--tenant", help="The user's tenant."),
    user: str = typer.Option(..., "--user", help="The erased user id to allow again."),
) -> None:
    """Let an erased user id be used again (their old data stays gone)."""
    found = with_database(lambda opened: reenable_user(*_stores(opened), tenant, user))
    if not found:
        typer.echo(f"error: user {user!r} of tenant {tenant!r} is not erased", err=True)
        raise typer.Exit(EXIT_CONFLICT)
    typer.echo(f"user {user!r} of tenant {tenant!r} may write again")
