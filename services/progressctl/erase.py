"""`progressctl erase`, `reenable` and `erasure rekey`: forget a user, let an id back, rekey."""

from __future__ import annotations

import json

import typer

from services.progressctl.common import (
    EXIT_CONFLICT,
    EXIT_USAGE,
    change_announcer,
    load_settings,
    with_database,
)
from shared.adapters.clock import SystemClock
from shared.adapters.connections import Connections
from shared.adapters.settings import Settings
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.user_data_store import MongoUserDataStore
from shared.service_layer.erasure import erase_user, reenable_user

__all__ = ["erase", "erasure_app", "reenable"]

erasure_app = typer.Typer(help="Tombstones of erased users.", no_args_is_help=True)


def _settings() -> Settings:
    """The settings, refused (code 2) when tombstones would be keyed by the public default."""
    settings = load_settings()
    problem = settings.production_problem()
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_USAGE)
    return settings


def _stores(
    settings: Settings, opened: Connections
) -> tuple[MongoTombstoneStore, MongoUserDataStore]:
    return MongoTombstoneStore(opened.db, settings.erasure_secrets), MongoUserDataStore(opened.db)


def erase(
    tenant: str = typer.Option(..., "--tenant", help="The user's tenant."),
    user: str = typer.Option(..., "--user", help="The user to erase."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Erase a user everywhere they are stored (right to be forgotten); cannot be undone.

    A tombstone (a keyed hash of the id, never the id) stays: the gateway answers the
    user's writes with 410 and projectors drop events of theirs still in flight, until an
    operator runs `progressctl reenable`. Once the gateways' tombstone cache has expired
    (PROGRESS_AUTH_CACHE_SECONDS + PROGRESS_ERASURE_SWEEP_MARGIN_SECONDS) the erase sweeps
    again, removing what a gateway stored meanwhile; if the command is interrupted before,
    running it again resumes that wait.
    """
    if not yes and not typer.confirm(f"Erase every record of user {user!r} in tenant {tenant!r}?"):
        raise typer.Exit(1)
    settings = _settings()
    settle = settings.auth_cache_seconds + settings.erasure_sweep_margin_seconds

    async def erased(opened: Connections) -> dict[str, int]:
        tombstones, store = _stores(settings, opened)
        return await erase_user(
            tombstones,
            store,
            tenant,
            user,
            clock=SystemClock(),
            settle_seconds=settle,
            changes=change_announcer(opened, "erase"),
        )

    deleted = with_database(erased, settings=settings, broker=True)
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
    settings = _settings()
    found = with_database(
        lambda opened: reenable_user(*_stores(settings, opened), tenant, user), settings=settings
    )
    if not found:
        typer.echo(f"error: user {user!r} of tenant {tenant!r} is not erased", err=True)
        raise typer.Exit(EXIT_CONFLICT)
    typer.echo(f"user {user!r} of tenant {tenant!r} may write again")


@erasure_app.command("rekey")
def rekey(as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
    """Rewrite tombstones made under a previous erasure secret under the current one.

    Run it after moving the old secret to PROGRESS_ERASURE_SECRETS_PREVIOUS and setting a new
    PROGRESS_ERASURE_SECRET everywhere. A keyed hash cannot be recomputed without the user
    id, so each tombstone's id is wrapped under the new secret: the old secret alone then
    matches none of them. Keep the old secret in PROGRESS_ERASURE_SECRETS_PREVIOUS: lookups
    still need it to reach the wrapped ids, and dropping it would un-erase those users.
    """
    settings = _settings()
    done = with_database(
        lambda opened: MongoTombstoneStore(opened.db, settings.erasure_secrets).rekey(),
        settings=settings,
    )
    counts = {"rewritten": done.rewritten, "current": done.current, "left": done.left}
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(
            f"{done.rewritten} tombstone(s) rewritten under the current secret, "
            f"{done.current} already under it, {done.left} rekeyed earlier under a "
            "previous secret (kept: they match while it stays in the ring)"
        )
