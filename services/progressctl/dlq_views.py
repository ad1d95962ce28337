"""How `progressctl dlq` shows dead letters: tables for people, JSON for scripts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from shared.service_layer.dead_letter_records import StoredLetter

__all__ = ["letter_json", "print_letter", "print_list"]

_ERROR_COLUMN_CHARS = 60


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _state(stored: StoredLetter) -> str:
    return f"replayed x{stored.replays}" if stored.replays > 1 else stored.state


def letter_json(stored: StoredLetter, *, with_body: bool = False) -> dict[str, Any]:
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


def print_list(letters: list[StoredLetter]) -> None:
    """Print letters as a table, one row each."""
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


def print_letter(stored: StoredLetter) -> None:
    """Print one letter: its facts, every attempt, and the message."""
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
