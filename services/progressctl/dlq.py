"""`progressctl dlq`: list, explain, replay and purge dead letters.

Exit codes scripts can rely on: 0 done; 1 no such letter, or nothing to replay or purge;
2 usage error; 3 the broker or the database is unavailable.

A replayed letter is kept and marked `replayed` (with the time and a count), so `list`
shows what was done; `purge` removes letters for good.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from services.progressctl.common import EXIT_CONFLICT, load_settings, unavailable
from shared.adapters.dead_letters import (
    PENDING,
    LetterFilter,
    MongoDeadLetterStore,
    StoredLetter,
)
from shared.adapters.errors import BrokerUnavailable, StoreUnavailable
from shared.adapters.kafka import event_headers, kafka_broker
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC

__all__ = ["dlq_app"]

T = TypeVar("T")

dlq_app = typer.Typer(
    help="Dead letters: events that could not be projected. List, show, replay, purge.",
    no_args_is_help=True,
)

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ERROR_COLUMN_CHARS = 60


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run one command's I/O; an unreachable broker or database exits with code 3."""
    try:
        return asyncio.run(work)
    except (StoreUnavailable, BrokerUnavailable, KafkaError, TimeoutError) as error:
        raise unavailable(error) from error


def _nothing(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(EXIT_CONFLICT)


@asynccontextmanager
async def _letters(settings: Settings) -> AsyncIterator[MongoDeadLetterStore]:
    client = mongo_client(settings)
    try:
        yield MongoDeadLetterStore(client[settings.mongo_database])
    finally:
        await client.close()


def _parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """`--since`: an ISO 8601 time (UTC if no offset) or a span back from now (90s, 30m, 2h, 7d).

    Raises:
        typer.BadParameter: For anything else (a usage error, exit code 2).
    """
    if value is None:
        return None
    now = now or datetime.now(UTC)
    match = _DURATION.match(value.strip())
    if match:
        return now - timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither an ISO 8601 time nor a span like 30m, 2h, 7d",
            param_hint="--since",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _state(stored: StoredLetter) -> str:
    return f"replayed x{stored.replays}" if stored.replays > 1 else stored.state


def _letter_json(stored: StoredLetter, *, with_body: bool = False) -> dict[str, Any]:
    """A letter as the `--json` output shows it (with its key and body for `show`)."""
    letter = stored.letter
    body: dict[str, Any] = {
        "id": stored.letter_id,
        "state": stored.state,
        "replays": stored.replays,
        "replayedAt": _when(stored.replayed_at),
        "reason": letter.reason,
        "failedAt": _when(stored.failed_at),
        "tenant": letter.tenant_id,
        "user": letter.user_id,
        "eventId": letter.event_id,
        "type": letter.event_type,
        "requestId": letter.request_id,
        "original": {
            "topic": letter.original_topic,
            "partition": letter.original_partition,
            "offset": letter.original_offset,
        },
        "attempts": [attempt.to_dict() for attempt in letter.attempts],
    }
    if with_body:
        body["key"] = letter.key.decode(errors="backslashreplace") if letter.key else None
        body["raw"] = letter.raw.decode(errors="backslashreplace")
    return body


def _print_list(letters: list[StoredLetter]) -> None:
    table = Table(title=f"{len(letters)} dead letter(s)", title_justify="left")
    for column in ("id", "failed at", "state", "reason", "tenant", "user", "type", "event"):
        table.add_column(column, no_wrap=column in ("id", "failed at", "state"))
    table.add_column("attempts", justify="right")
    table.add_column("last error")
    for stored in letters:
        letter = stored.letter
        last = letter.attempts[-1].error if letter.attempts else ""
        table.add_row(
            stored.letter_id,
            _when(stored.failed_at),
            _state(stored),
            letter.reason,
            letter.tenant_id or "-",
            letter.user_id or "-",
            letter.event_type or "-",
            letter.event_id or "-",
            str(len(letter.attempts)),
            last[:_ERROR_COLUMN_CHARS],
        )
    Console().print(table)


def _print_letter(stored: StoredLetter) -> None:
    letter = stored.letter
    facts = Table(show_header=False, title=f"dead letter {stored.letter_id}", title_justify="left")
    facts.add_column(style="bold")
    facts.add_column()
    replayed = f" (last {_when(stored.replayed_at)})" if stored.replayed_at else ""
    rows = {
        "state": _state(stored) + replayed,
        "reason": letter.reason,
        "failed at": _when(stored.failed_at) or "-",
        "tenant / user": f"{letter.tenant_id or '-'} / {letter.user_id or '-'}",
        "event": f"{letter.event_id or '-'} ({letter.event_type or 'undecoded'})",
        "request id": letter.request_id or "-",
        "from": f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}",
        "key": letter.key.decode(errors="backslashreplace") if letter.key else "-",
    }
    for name, value in rows.items():
        facts.add_row(name, value)
    attempts = Table(title="attempts", title_justify="left")
    attempts.add_column("#", justify="right")
    attempts.add_column("at", no_wrap=True)
    attempts.add_column("error")
    for attempt in letter.attempts:
        attempts.add_row(str(attempt.attempt), _when(attempt.at), attempt.error)
    console = Console()
    console.print(facts)
    console.print(attempts)
    console.print("[bold]message[/bold]")
    console.print(letter.raw.decode(errors="backslashreplace"), markup=False, highlight=False)


def _one_or_all(letter_id: str | None, everything: bool) -> None:
    if (letter_id is not None) != everything:
        return
    raise typer.BadParameter("give one dead-letter ID or --all (not both)", param_hint="ID")


@dlq_app.command("list")
def list_letters(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's letters."),
    since: str | None = typer.Option(
        None, "--since", help="Only letters since this ISO 8601 time or span (30m, 2h, 7d)."
    ),
    event_type: str | None = typer.Option(
        None, "--type", help="Only this event type, e.g. content.progressed."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list) for scripts."),
) -> None:
    """List dead letters, newest first, with their state (pending or replayed)."""
    selection = LetterFilter(tenant_id=tenant, since=_parse_since(since), event_type=event_type)
    settings = load_settings()

    async def find() -> list[StoredLetter]:
        async with _letters(settings) as letters:
            return await letters.find(selection)

    found = _run(find())
    if as_json:
        typer.echo(json.dumps([_letter_json(stored) for stored in found], indent=2))
    else:
        _print_list(found)


@dlq_app.command("show")
def show(
    letter_id: str = typer.Argument(..., metavar="ID", help="The dead letter's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show one dead letter: where it came from, every attempt's error, the message."""
    settings = load_settings()

    async def get() -> StoredLetter | None:
        async with _letters(settings) as letters:
            return await letters.get(letter_id)

    stored = _run(get())
    if stored is None:
        raise _nothing(f"no dead letter {letter_id}")
    if as_json:
        typer.echo(json.dumps(_letter_json(stored, with_body=True), indent=2))
    else:
        _print_letter(stored)


async def _replay(settings: Settings, chosen: list[StoredLetter]) -> list[str]:
    """Publish each letter onto `progress.events`, then mark it replayed.

    Each publish waits for the broker's acknowledgement before the letter is marked, so a
    failure leaves the letter pending; replaying again is safe (events are stored once).
    """
    broker = kafka_broker(settings, client_id="progressctl")
    replayed: list[str] = []
    try:
        await broker.connect()
        async with _letters(settings) as letters:
            for stored in chosen:
                letter = stored.letter
                headers = {
                    name: value
                    for name, value in event_headers(letter.request_id or "").items()
                    if value
                }
                await broker.publish(
                    letter.raw, topic=EVENTS_TOPIC, key=letter.key, headers=headers
                )
                if await letters.mark_replayed(stored.letter_id):
                    replayed.append(stored.letter_id)
    finally:
        await broker.stop()
    return replayed


@dlq_app.command("replay")
def replay(
    letter_id: str | None = typer.Argument(None, metavar="ID", help="The dead letter's id."),
    everything: bool = typer.Option(False, "--all", help="Every pending letter."),
    tenant: str | None = typer.Option(None, "--tenant", help="With --all: only this tenant."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Put letters back onto progress.events with their original key and request id.

    `replay ID` replays that letter whatever its state; `--all` replays pending letters
    only. Safe to repeat: the projector stores each event once.
    """
    _one_or_all(letter_id, everything)
    if tenant is not None and not everything:
        raise typer.BadParameter("--tenant goes with --all", param_hint="--tenant")
    settings = load_settings()

    async def work() -> list[str] | None:
        async with _letters(settings) as letters:
            if letter_id is not None:
                stored = await letters.get(letter_id)
                chosen = [stored] if stored else []
            else:
                chosen = await letters.find(LetterFilter(tenant_id=tenant, state=PENDING))
        if not chosen:
            return None
        return await _replay(settings, chosen)

    replayed = _run(work())
    if replayed is None:
        raise _nothing(f"no dead letter {letter_id}" if letter_id else "nothing to replay")
    if as_json:
        typer.echo(json.dumps({"replayed": replayed}))
    else:
        typer.echo(f"replayed {len(replayed)} dead letter(s) onto {EVENTS_TOPIC}")


@dlq_app.command("purge")
def purge(
    letter_id: str | None = typer.Argument(None, metavar="ID", help="The dead letter's id."),
    everything: bool = typer.Option(False, "--all", help="Every letter, whatever its state."),
    yes: bool = typer.Option(False, "--yes", help="Confirm --all (required with it)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Delete letters for good (`--all` only with `--yes`)."""
    _one_or_all(letter_id, everything)
    if everything and not yes:
        raise typer.BadParameter(
            "refusing to purge every dead letter without --yes", param_hint="--all"
        )
    settings = load_settings()

    async def work() -> int:
        async with _letters(settings) as letters:
            if letter_id is not None:
                return await letters.delete([letter_id])
            return await letters.delete_all()

    purged = _run(work())
    if purged == 0:
        raise _nothing(f"no dead letter {letter_id}" if letter_id else "nothing to purge")
    if as_json:
        typer.echo(json.dumps({"purged": purged}))
    else:
        typer.echo(f"purged {purged} dead letter(s)")
