"""`progressctl rebuild`: recompute snapshots from the event log, with a progress bar."""

from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.progressctl.common import EXIT_CONFLICT, change_announcer, with_database
from shared.adapters.clock import SystemClock
from shared.adapters.connections import Connections
from shared.adapters.event_log import MongoEventLog
from shared.adapters.rebuild_checkpoints import MongoRebuildCheckpoints
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.service_layer.rebuild import (
    RebuildReport,
    RebuildScope,
    SnapshotRebuilder,
    SnapshotsKeptChanging,
)

__all__ = ["rebuild"]


async def _rebuild(
    opened: Connections, scope: RebuildScope, restart: bool, quiet: bool
) -> RebuildReport:
    db = opened.db
    rebuilder = SnapshotRebuilder(
        MongoEventLog(db),
        MongoSnapshotStore(db),
        MongoRebuildCheckpoints(db),
        SystemClock(),
        change_announcer(opened, "rebuild"),
    )
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


def rebuild(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's users."),
    user: str | None = typer.Option(None, "--user", help="Only this user (needs --tenant)."),
    restart: bool = typer.Option(False, "--restart", help="Ignore an unfinished earlier run."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recompute snapshots from the event log (resumable; safe while projectors run).

    A user whose log cannot be reduced is reported (exit code 1) and the run goes on.

    An interrupted run continues after the last finished user when started again with the
    same --tenant/--user.
    """
    if user is not None and tenant is None:
        typer.echo("error: --user needs --tenant", err=True)
        raise typer.Exit(2)
    scope = RebuildScope(tenant_id=tenant, user_id=user)
    report = with_database(
        lambda opened: _rebuild(opened, scope, restart, quiet=as_json),
        refused=(SnapshotsKeptChanging,),
        broker=True,
    )
    result = {
        "users": report.total,
        "rebuilt": report.rebuilt,
        "skipped": report.skipped,
        "failed": [{"tenant": t, "user": u, "error": error} for (t, u), error in report.failed],
    }
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(
            f"rebuilt {report.rebuilt} of {report.total} users"
            + (f" ({report.skipped} done by an earlier run)" if report.skipped else "")
        )
        for (tenant, user), error in report.failed:
            typer.echo(f"error: tenant {tenant!r}, user {user!r}: {error}", err=True)
    if report.failed:
        raise typer.Exit(EXIT_CONFLICT)
