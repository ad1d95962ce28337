"""`progressctl insights rebuild`: recount the course insights from the snapshots."""

from __future__ import annotations

import json
import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.progressctl.common import with_database
from shared.adapters.connections import Connections
from shared.adapters.insight_store import mongo_insights

__all__ = ["insights_app"]

insights_app = typer.Typer(help="Course insights: recount them from the snapshots.")


async def _recount(opened: Connections, tenant: str | None, course: str | None, quiet: bool) -> int:
    insights = mongo_insights(opened.db)
    with Progress(
        TextColumn("recounting insights"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=quiet,
    ) as bar:
        task = bar.add_task("insights", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, total=total, completed=done)

        return await insights.recount(tenant, course, progress=advance)


@insights_app.command("rebuild")
def rebuild(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's learners."),
    course: str | None = typer.Option(
        None, "--course", help="Only this course's figures (needs --tenant)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recount every learner's contribution from their snapshot (safe while consumers run).

    Each learner is replaced as the insights consumer replaces them, so the sums equal a
    recount afterwards; running it twice changes nothing.
    """
    if course is not None and tenant is None:
        typer.echo("error: --course needs --tenant", err=True)
        raise typer.Exit(2)
    started = time.perf_counter()
    learners = with_database(lambda opened: _recount(opened, tenant, course, quiet=as_json))
    seconds = time.perf_counter() - started
    rate = learners / seconds if seconds > 0 else 0.0
    if as_json:
        typer.echo(json.dumps({"learners": learners, "seconds": round(seconds, 3)}))
    else:
        typer.echo(f"recounted {learners} learners in {seconds:.1f} s ({rate:.0f} learners/s)")
