"""`progressctl dlq`: list, explain, replay and purge dead letters.

Exit codes scripts can rely on: 0 done; 1 no such letter, or nothing to replay or purge;
2 usage error; 3 the broker or the database is unavailable.

A replayed letter is kept and marked `replayed` (with the time and a count), so `list`
shows what was done; `purge` removes letters for good.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import typer

from services.progressctl.common import EXIT_CONFLICT, with_database
from services.progressctl.dlq_views import letter_json, print_letter, print_list
from shared.adapters.connections import Connections
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.kafka_publishing import KafkaRepublisher
from shared.adapters.topics import EVENTS_TOPIC
from shared.service_layer.dead_letter_records import LetterFilter, StoredLetter
from shared.service_layer.dead_letters import pending_letters, purge, replay

__all__ = ["dlq_app"]

dlq_app = typer.Typer(
    help="Dead letters: events that could not be projected. List, show, replay, purge.",
    no_args_is_help=True,
)

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _nothing(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(EXIT_CONFLICT)


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
    found = with_database(lambda opened: MongoDeadLetterStore(opened.db).find(selection))
    if as_json:
        typer.echo(json.dumps([letter_json(stored) for stored in found], indent=2))
    else:
        print_list(found)


@dlq_app.command("show")
def show(
    letter_id: str = typer.Argument(..., metavar="ID", help="The dead letter's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show one dead letter: where it came from, every attempt's error, the message."""
    stored = with_database(lambda opened: MongoDeadLetterStore(opened.db).get(letter_id))
    if stored is None:
        raise _nothing(f"no dead letter {letter_id}")
    if as_json:
        typer.echo(json.dumps(letter_json(stored, with_body=True), indent=2))
    else:
        print_letter(stored)


@dlq_app.command("replay")
def replay_letters(
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

    async def work(opened: Connections) -> list[str] | None:
        letters = MongoDeadLetterStore(opened.db)
        chosen: list[StoredLetter]
        if letter_id is not None:
            stored = await letters.get(letter_id)
            chosen = [stored] if stored else []
        else:
            chosen = await pending_letters(letters, tenant)
        if not chosen:
            return None
        return await replay(letters, KafkaRepublisher(opened.require_broker()), chosen)

    replayed = with_database(work, broker=True)
    if replayed is None:
        raise _nothing(f"no dead letter {letter_id}" if letter_id else "nothing to replay")
    if as_json:
        typer.echo(json.dumps({"replayed": replayed}))
    else:
        typer.echo(f"replayed {len(replayed)} dead letter(s) onto {EVENTS_TOPIC}")


@dlq_app.command("purge")
def purge_letters(
    letter_id: str | None = typer.Argument(None, metavar="ID", help="The dead letter's id."),
    everything: bool = typer.Option(False, "--all", help="Every letter, whatever its state."),
    tenant: str | None = typer.Option(None, "--tenant", help="With --all: only this tenant's."),
    all_tenants: bool = typer.Option(
        False, "--all-tenants", help="With --all: every tenant's letters (say so explicitly)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Confirm --all (required with it)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Delete letters for good: one by ID, or `--all` of one `--tenant` or of `--all-tenants`.

    `--all` needs a scope and `--yes`, so no typo deletes every tenant's letters.
    """
    _purge_scope(letter_id, everything, tenant, all_tenants, yes)
    purged = with_database(
        lambda opened: purge(
            MongoDeadLetterStore(opened.db), letter_id, LetterFilter(tenant_id=tenant)
        )
    )
    if purged == 0:
        raise _nothing(f"no dead letter {letter_id}" if letter_id else "nothing to purge")
    if as_json:
        typer.echo(json.dumps({"purged": purged}))
    else:
        typer.echo(f"purged {purged} dead letter(s)")


def _purge_scope(
    letter_id: str | None, everything: bool, tenant: str | None, all_tenants: bool, yes: bool
) -> None:
    """Refuse (exit code 2) a purge whose reach is not spelled out."""
    _one_or_all(letter_id, everything)
    if not everything:
        if tenant is not None or all_tenants:
            raise typer.BadParameter(
                "--tenant and --all-tenants go with --all", param_hint="--tenant"
            )
        return
    if (tenant is None) == (not all_tenants):
        raise typer.BadParameter(
            "say whose letters --all purges: --tenant T, or --all-tenants for every tenant",
            param_hint="--all",
        )
    if not yes:
        whose = f"of tenant '{tenant}'" if tenant else "of every tenant"
        raise typer.BadParameter(
            f"refusing to purge every dead letter {whose} without --yes", param_hint="--all"
        )
