"""`progressctl catalog jobs`: catalog jobs with their progress, as a table, JSON or live bars."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.progressctl.common import with_database
from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.connections import Connections
from shared.service_layer.catalog_job_records import ACTIVE_STATES, CatalogJob

__all__ = ["jobs"]

_WATCH_SECONDS = 1.0


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _summary(job: CatalogJob) -> dict[str, Any]:
    change = job.change
    return {
        "jobId": job.job_id,
        "tenant": change.tenant_id,
        "courseId": change.course_id,
        "revision": change.revision,
        "change": _change(job),
        "state": job.state.value,
        "done": job.done,
        "total": job.total,
        "runs": job.attempts,
        "queuedAt": _moment(job.queued_at),
        "startedAt": _moment(job.started_at),
        "updatedAt": _moment(job.updated_at),
        "error": job.error,
    }


def _change(job: CatalogJob) -> str:
    """What the job judges: a course `removed`, or a course version `stored`."""
    return "removed" if job.change.removed else "stored"


def _print_table(found: list[CatalogJob]) -> None:
    table = Table("job", "state", "users judged", "runs", "started", "updated")
    for job in found:
        table.add_row(
            job.job_id,
            f"{job.state.value} (removal)" if job.change.removed else job.state.value,
            f"{job.done}/{job.total}",
            str(job.attempts),
            _moment(job.started_at) or "-",
            _moment(job.updated_at) or "-",
        )
    Console(highlight=False).print(table)


async def _watch(
    opened: Connections, tenant: str | None, limit: int, quiet: bool
) -> list[CatalogJob]:
    """Show a bar per job until none is queued or running; return the jobs as they ended."""
    store = MongoCatalogJobStore(opened.db)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        disable=quiet,
    ) as bars:
        tasks: dict[str, Any] = {}
        while True:
            found = await store.recent(tenant, limit)
            for job in found:
                if job.job_id not in tasks:
                    tasks[job.job_id] = bars.add_task(job.job_id, total=None, state="")
                total = job.total or None
                bars.update(tasks[job.job_id], total=total, completed=job.done, state=job.state)
            if not any(job.state in ACTIVE_STATES for job in found):
                return found
            await asyncio.sleep(_WATCH_SECONDS)


def jobs(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's jobs."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="Newest jobs shown."),
    watch: bool = typer.Option(
        False, "--watch", help="Progress bars until no job is left (with --json: wait, then print)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Catalog jobs, newest first: state, users judged of the tenant's total, runs, times.

    A catalog PUT (or `catalog import`) answers once the course is stored, a DELETE once it
    is removed; its job then judges every user's claim on the course in the projectors
    (`change`: `stored` or `removed`). `--watch` follows it.
    """

    async def operation(opened: Connections) -> list[CatalogJob]:
        if watch:
            return await _watch(opened, tenant, limit, quiet=as_json)
        return await MongoCatalogJobStore(opened.db).recent(tenant, limit)

    found = with_database(operation)
    if as_json:
        typer.echo(json.dumps([_summary(job) for job in found], indent=2))
    elif not watch:
        _print_table(found)
