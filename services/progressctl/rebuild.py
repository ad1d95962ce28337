"""`progressctl rebuild`: recompute snapshots from the event log, with a progress bar."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.progressctl.common import load_settings, unavailable
from shared.adapters.errors import StoreUnavailable
from shared.adapters.mongo import ensure_indexes, mongo_client
from shared.adapters.rebuild import RebuildReport, RebuildScope, SnapshotRebuilder
from shared.adapters.settings import Settings

__all__ = ["rebuild"]


async def _rebuild(
    settings: Settings, scope: RebuildScope, restart: bool, quiet: bool
) -> RebuildReport:
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        await ensure_indexes(db)
        rebuilder = SnapshotRebuilder(db)
        with Progress(
            TextColumn("rebuilding snapshots"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=quiet,
        ) as bar:
            task = bar.add_task("rebuild", total=None)

            def advance(report: RebuildReport) -> None:
                bar.update(task, total=report.total, completed=report.rebuilt + report.skipped)

            return await rebuilder.run(scope, restart=restart, progress=advance)
    finally:
        await client.close()


def rebuild(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's users."),
    user: str | None = typer.Option(None, "--user", help="Only this user (needs --tenant)."),
    restart: bool = typer.Option(False, "--restart", help="Ignore an unfinished earlier run."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recompute snapshots from the event log (resumable; safe while projectors run).

    An interrupted run continues after the last finished user when started again with the
    same --tenant/--user.
    """
    if user is not None and tenant is None:
        typer.echo("error: --user needs --tenant", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    scope = RebuildScope(tenant_id=tenant, user_id=user)
    try:
        report = asyncio.run(_rebuild(settings, scope, restart, quiet=as_json))
    except StoreUnavailable as error:
        raise unavailable(error) from error
    result = {"users": report.total, "rebuilt": report.rebuilt, "skipped": report.skipped}
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(
            f"rebuilt {report.rebuilt} of {report.total} users"
            + (f" ({report.skipped} done by an earlier run)" if report.skipped else "")
        )
