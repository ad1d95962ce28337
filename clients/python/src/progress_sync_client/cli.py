"""`progress-sync import FILE.ndjson`: import legacy progress, one user per line, with a bar.

Each line is `{"userId": "...", "state": {snapshot-shaped}}` (optionally `"asOf"`). The import
is idempotent on the server, so a run that stopped half-way is simply run again. With the
`cli` extra (`pip install 'progress-sync-client[cli]'`) it shows a progress bar; without,
it prints only failures and the total.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .client import AsyncProgressClient
from .errors import ApiError

__all__ = ["main"]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="progress-sync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import", help="import users' legacy state from NDJSON")
    importing.add_argument("file", type=Path, help="NDJSON: one {userId, state} per line")
    importing.add_argument("--url", default=os.environ.get("PROGRESS_SYNC_URL"))
    importing.add_argument(
        "--api-key",
        default=os.environ.get("PROGRESS_SYNC_API_KEY"),
        help="tenant API key (default: $PROGRESS_SYNC_API_KEY)",
    )
    arguments = parser.parse_args(argv)
    if not arguments.url or not arguments.api_key:
        parser.error("give --url and --api-key (or PROGRESS_SYNC_URL, PROGRESS_SYNC_API_KEY)")
    return arguments


def _read_lines(path: Path) -> list[tuple[int, dict[str, object]]]:
    """The file's non-empty lines as (line number, object); exits naming a bad line."""
    entries: list[tuple[int, dict[str, object]]] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as error:
            sys.exit(f"{path}:{number}: not JSON ({error})")
        if not isinstance(entry, dict) or not isinstance(entry.get("userId"), str):
            sys.exit(f"{path}:{number}: userId: a line must be an object with a string userId")
        if not isinstance(entry.get("state"), dict):
            sys.exit(f"{path}:{number}: state: must be a snapshot-shaped object")
        entries.append((number, entry))
    return entries


class _Report(Protocol):
    def failed(self, message: str) -> None: ...

    def advance(self) -> None: ...


class _Plain:
    """Without the `cli` extra: failures on stderr, no bar."""

    def failed(self, message: str) -> None:
        print(message, file=sys.stderr)

    def advance(self) -> None:
        """Nothing to draw."""


@contextmanager
def _report(total: int) -> Iterator[_Report]:
    """A progress bar if `rich` (the `cli` extra) is installed, else plain failure lines."""
    try:
        from rich.progress import Progress
    except ImportError:
        yield _Plain()
        return
    with Progress(transient=False) as bar:
        task = bar.add_task("importing", total=total)

        class _Bar:
            def failed(self, message: str) -> None:
                bar.console.print(message)

            def advance(self) -> None:
                bar.advance(task)

        yield _Bar()


async def _import(arguments: argparse.Namespace) -> int:
    entries = _read_lines(arguments.file)
    failures = 0
    async with AsyncProgressClient(arguments.url, api_key=arguments.api_key) as client:
        with _report(len(entries)) as report:
            for number, entry in entries:
                as_of = entry.get("asOf")
                try:
                    await client.import_state(
                        str(entry["userId"]),
                        entry["state"],  # type: ignore[arg-type]
                        as_of=datetime.fromisoformat(as_of) if isinstance(as_of, str) else None,
                    )
                except ApiError as error:
                    failures += 1
                    report.failed(f"line {number} ({entry['userId']}): {error}")
                report.advance()
    print(f"imported {len(entries) - failures} of {len(entries)} users", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; exit status 1 if any user failed to import."""
    arguments = _arguments(argv)
    return asyncio.run(_import(arguments))
