"""What every `progressctl` command shares: settings, logging, connections and exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer
from pydantic import ValidationError

from shared.adapters.change_publishing import KafkaChangeAnnouncer
from shared.adapters.connections import Connections, connections
from shared.adapters.kafka import kafka_broker
from shared.adapters.logs import configure_logging
from shared.adapters.settings import Settings
from shared.adapters.tenants import mongo_tenants
from shared.domain.tenants import TenantError, valid_tenant_id
from shared.service_layer.errors import BrokerUnavailable, StoreUnavailable
from shared.service_layer.tenants import TenantAdmin

__all__ = [
    "EXIT_CONFLICT",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "change_announcer",
    "checked_tenant_id",
    "load_settings",
    "refuse",
    "run_command",
    "with_database",
    "with_tenants",
]

T = TypeVar("T")

EXIT_CONFLICT = 1
"""The named thing does not exist, or already exists (2 is Typer's exit code for bad usage)."""

EXIT_USAGE = 2
"""Bad usage: a wrong option, or a setting that cannot be used (Typer's code for usage)."""

EXIT_UNAVAILABLE = 3
"""Kafka or MongoDB could not be reached: retry later, nothing is wrong with the command."""


def load_settings() -> Settings:
    """The `PROGRESS_*` settings, with logging configured from them (logs go to stderr).

    A setting that cannot be used exits with code 2 and one line per problem, naming it.
    """
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            field = "_".join(str(part) for part in problem["loc"]).upper()
            message = problem["msg"].removeprefix("Value error, ")
            # A rule across settings (no single field) names its settings in its message.
            named = f"PROGRESS_{field}: " if field else ""
            typer.echo(f"error: {named}{message}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def checked_tenant_id(value: str) -> str:
    """A tenant id argument's callback: an invalid id is bad usage (code 2), with the rule."""
    try:
        return valid_tenant_id(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def change_announcer(opened: Connections, writer: str) -> KafkaChangeAnnouncer:
    """Announce changes through the broker `with_database(..., broker=True)` connected."""
    return KafkaChangeAnnouncer(opened.require_broker(), Settings(), writer)


def refuse(error: Exception | str) -> typer.Exit:
    """Report a missing or conflicting object on stderr; the caller raises the exit (code 1)."""
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_CONFLICT)


def with_database(
    operation: Callable[[Connections], Awaitable[T]],
    *,
    refused: tuple[type[Exception], ...] = (),
    broker: bool = False,
    settings: Settings | None = None,
) -> T:
    """Run `operation` on the configured database (and a connected broker), then close them.

    The one place where a command's outages become exit code 3 (Kafka or MongoDB not
    answering); an exception of a `refused` type (not found, conflict) exits with code 1,
    its message on stderr.
    """
    settings = settings or load_settings()
    producer = kafka_broker(settings, client_id="progressctl") if broker else None

    async def connected() -> T:
        async with connections(settings, producer) as opened:
            return await operation(opened)

    return run_command(connected(), refused=refused)


def with_tenants(operation: Callable[[TenantAdmin], Awaitable[T]]) -> T:
    """Run `operation` on the tenant use cases; an unknown or conflicting tenant exits with 1."""
    return with_database(lambda opened: operation(mongo_tenants(opened.db)), refused=(TenantError,))


def run_command(work: Coroutine[Any, Any, T], *, refused: tuple[type[Exception], ...] = ()) -> T:
    """Run a command's I/O: an outage exits with code 3, a `refused` error with code 1.

    The one place where outages (Kafka or MongoDB not answering) become exit codes.
    """
    try:
        return asyncio.run(work)
    except (StoreUnavailable, BrokerUnavailable) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_UNAVAILABLE) from error
    except refused as error:
        raise refuse(error) from error
