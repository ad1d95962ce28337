"""What every `progressctl` command shares: settings, logging and the exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.errors import StoreUnavailable
from shared.adapters.logs import configure_logging
from shared.adapters.mongo import Document, mongo_client
from shared.adapters.settings import Settings

__all__ = [
    "EXIT_CONFLICT",
    "EXIT_UNAVAILABLE",
    "load_settings",
    "refuse",
    "unavailable",
    "with_database",
]

T = TypeVar("T")

EXIT_CONFLICT = 1
"""The named thing does not exist, or already exists (2 is Typer's exit code for bad usage)."""

EXIT_UNAVAILABLE = 3
"""Kafka or MongoDB could not be reached: retry later, nothing is wrong with the command."""


def load_settings() -> Settings:
    """The `PROGRESS_*` settings, with logging configured from them (logs go to stderr)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def unavailable(error: Exception) -> typer.Exit:
    """Report an outage on stderr; the caller raises the returned exit (code 3)."""
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_UNAVAILABLE)


def refuse(error: Exception) -> typer.Exit:
    """Report a missing or conflicting object on stderr; the caller raises the exit (code 1)."""
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_CONFLICT)


def with_database(
    operation: Callable[[AsyncDatabase[Document]], Awaitable[T]],
    *,
    refused: tuple[type[Exception], ...] = (),
) -> T:
    """Run `operation` on the configured database, then close the client.

    An outage exits with code 3; an exception of a `refused` type (not found, conflict)
    exits with code 1, its message on stderr.
    """
    settings = load_settings()

    async def connected() -> T:
        client = mongo_client(settings)
        try:
            return await operation(client[settings.mongo_database])
        finally:
            await client.close()

    try:
        return asyncio.run(connected())
    except StoreUnavailable as error:
        raise unavailable(error) from error
    except refused as error:
        raise refuse(error) from error
