"""`progressctl import FILE`: legacy saved states of many users, from NDJSON, resumable.

Each line is `{"userId": ..., "state": {...}, "asOf"?: "..."}`. Lines are imported in order
with a progress bar; a line's derived events go out in parts of at most
`PROGRESS_MAX_EVENTS_PER_REQUEST`, as the gateway would take them. Every rejected line (or
event of a line) is reported with its line number and reason. An interrupted import
continues after the last line it finished when run again on the same file (`--restart`
starts over; re-importing is a no-op anyway).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.progressctl.common import EXIT_CONFLICT, load_settings, with_database
from shared.adapters.connections import Connections
from shared.adapters.kafka_publishing import KafkaEventPublisher
from shared.adapters.mongo import IMPORT_RUNS, driver_errors
from shared.adapters.settings import Settings
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tombstone_store import MongoTombstoneStore
from shared.domain import ContractViolation, events_from_state, is_valid_id, parse_state
from shared.service_layer.ingest import Ingest, Submission

__all__ = ["import_states"]


@dataclass
class _Outcome:
    lines: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)


def _line(number: int, text: str) -> tuple[str, object, datetime | None]:
    """The user, the state and the asOf of one line, or ContractViolation naming the field."""
    try:
        record = json.loads(text)
    except ValueError as error:
        raise ContractViolation(None, f"not JSON: {error}") from None
    if not isinstance(record, dict) or set(record) - {"userId", "state", "asOf"}:
        raise ContractViolation(None, "a line is {userId, state, asOf?}")
    user = record.get("userId")
    if not isinstance(user, str) or not is_valid_id(user):
        raise ContractViolation("userId", "must be 1-128 printable characters without whitespace")
    as_of = record.get("asOf")
    try:
        moment = datetime.fromisoformat(as_of) if isinstance(as_of, str) else None
    except ValueError:
        raise ContractViolation("asOf", "must be an RFC 3339 time") from None
    if moment is not None and moment.tzinfo is None:
        raise ContractViolation("asOf", "must carry a UTC offset")
    return user, record.get("state"), moment


async def _run(
    opened: Connections,
    settings: Settings,
    content: bytes,
    tenant: str,
    restart: bool,
    quiet: bool,
) -> _Outcome:
    db = opened.db
    ingest = Ingest(
        KafkaEventPublisher(opened.require_broker(), settings.kafka_request_timeout_ms / 1000),
        MongoTombstoneStore(db, settings.erasure_secrets),
        MongoSnapshotStore(db),
        settings.quotas,
    )
    lines = content.decode("utf-8").splitlines()
    run_id = f"{tenant}:{hashlib.sha256(content).hexdigest()}"
    runs = db[IMPORT_RUNS]
    async with driver_errors():
        found = None if restart else await runs.find_one({"_id": run_id})
    done = int(found["line"]) if found else 0
    outcome = _Outcome(lines=len(lines))
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=quiet,
    ) as bar:
        task = bar.add_task("import", total=len(lines), completed=done)
        for number, text in enumerate(lines[done:], start=done + 1):
            if text.strip():
                await _import_line(
                    ingest, tenant, number, text, outcome, settings.max_events_per_request
                )
            async with driver_errors():
                await runs.update_one(
                    {"_id": run_id},
                    {"$set": {"line": number, "at": datetime.now(UTC)}},
                    upsert=True,
                )
            bar.update(task, completed=number)
    return outcome


async def _import_line(
    ingest: Ingest, tenant: str, number: int, text: str, outcome: _Outcome, part: int
) -> None:
    """Derive the line's events and submit them in parts of at most `part` events."""
    now = datetime.now(UTC)
    try:
        user, state, as_of = _line(number, text)
        derived = events_from_state(parse_state(state), user_id=user, as_of=as_of or now)
    except ContractViolation as violation:
        outcome.problems.append(f"line {number}: {violation}")
        return
    for first in range(0, len(derived), part):
        submissions = [Submission(user, raw) for raw in derived[first : first + part]]
        result = await ingest.submit(
            tenant, submissions, now=now, request_id=f"import-{number}-{first // part}"
        )
        outcome.events += len(result.published)
        for rejected in (o for o in result.outcomes if not o.accepted):
            outcome.problems.append(f"line {number}: event {rejected.event_id}: {rejected.error}")


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
