"""`progressctl import FILE`: legacy saved states of many users, from NDJSON, resumable.

Each line is `{"userId": ..., "state": {...}, "asOf"?: "..."}`. Lines are imported in order
with a progress bar by `StateImport` (the service layer's use case); a line's derived events
go out in parts of at most `PROGRESS_MAX_EVENTS_PER_REQUEST`, as the gateway would take
them. Every rejected line (or event of a line) is reported with its line number and reason.
An interrupted import continues after the last line it finished when run again on the same
file (`--restart` starts over; re-importing is a no-op anyway).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.progressctl.common import EXIT_CONFLICT, load_settings, with_database
from shared.adapters.catalog_store import MongoCatalogStore
from shared.adapters.clock import SystemClock
from shared.adapters.connections import Connections
from shared.adapters.consistency_wiring import configured_consistency
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.event_log import MongoEventLog
from shared.adapters.import_checkpoints import MongoImportCheckpoints
from shared.adapters.kafka_publishing import KafkaEventPublisher
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.adapters.written_events_store import MongoWrittenEvents
from shared.service_layer.consistency import SnapshotWatcher
from shared.service_layer.ingest import Ingest
from shared.service_layer.state_import import ImportReport, StateImport

__all__ = ["import_states"]


def _state_import(opened: Connections, settings: Settings) -> StateImport:
    """The use case over this process's clients: the gateway's `Ingest`, all parts given."""
    db = opened.db
    clock = SystemClock()
    snapshots = MongoSnapshotStore(db)
    tombstones = MongoTombstoneStore(db, settings.erasure_secrets)
    consistency = configured_consistency(
        settings,
        events=MongoEventLog(db, settings.log_hole_bound),
        watcher=SnapshotWatcher(snapshots),
        written=MongoWrittenEvents(db),
        letters=MongoDeadLetterStore(db),
        tombstones=tombstones,
        clock=clock,
    )
    ingest = Ingest(
        KafkaEventPublisher(opened.require_broker(), settings.kafka_request_timeout_ms / 1000),
        tombstones,
        snapshots,
        settings.quotas,
        consistency=consistency,
        courses=MongoCatalogStore(db),
    )
    return StateImport(ingest, MongoImportCheckpoints(db), clock, settings.max_events_per_request)


async def _run(
    opened: Connections,
    settings: Settings,
    content: bytes,
    tenant: str,
    restart: bool,
    quiet: bool,
) -> ImportReport:
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=quiet,
    ) as bar:
        task = bar.add_task("import", total=None)

        def advance(report: ImportReport) -> None:
            bar.update(task, total=report.lines, completed=report.done)

        return await _state_import(opened, settings).run(
            tenant, content, restart=restart, progress=advance
        )


_FILE = typer.Argument(..., exists=True, dir_okay=False, help="NDJSON file.")


def import_states(
    path: Path = _FILE,
    tenant: str | None = typer.Option(None, "--tenant", help="Default: PROGRESS_BOOTSTRAP_TENANT."),
    restart: bool = typer.Option(False, "--restart", help="Ignore an unfinished earlier run."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import saved states ({userId, state, asOf?} per line) as events; resumable.

    Exit code 1 when any line or event was rejected (each is printed with its line).
    """
    settings = load_settings()
    chosen = tenant or settings.bootstrap_tenant
    try:
        content = path.read_bytes()
        content.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}", param_hint="FILE") from None
    outcome = with_database(
        lambda opened: _run(opened, settings, content, chosen, restart, as_json),
        broker=True,
        settings=settings,
    )
    if as_json:
        typer.echo(
            json.dumps(
                {"lines": outcome.lines, "events": outcome.events, "problems": outcome.problems}
            )
        )
    else:
        typer.echo(f"imported {outcome.lines} line(s): {outcome.events} event(s) accepted")
        for problem in outcome.problems:
            typer.echo(f"error: {path}: {problem}", err=True)
    if outcome.problems:
        raise typer.Exit(EXIT_CONFLICT)
