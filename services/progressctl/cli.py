"""`progressctl`: the operator's one command line for Progress Sync."""

from __future__ import annotations

import asyncio
import json

import typer

from services.progressctl.provisioning import bootstrap_tenant
from services.progressctl.stack import run_stack
from shared.adapters.errors import BrokerUnavailable, StoreUnavailable
from shared.adapters.kafka import create_topics, list_topics
from shared.adapters.logs import configure_logging
from shared.adapters.settings import Settings

__all__ = ["app"]

app = typer.Typer(
    name="progressctl",
    help="Operate Progress Sync: run the embedded stack, manage topics and tenants.",
    no_args_is_help=True,
    add_completion=False,
)
topics_app = typer.Typer(help="Kafka topics of Progress Sync.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants and their credentials.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(tenant_app, name="tenant")

EXIT_UNAVAILABLE = 3


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_UNAVAILABLE)


@app.command()
def run() -> None:
    """Run the embedded stack (broker, database, gateway, projector, retry worker)."""
    raise typer.Exit(run_stack(_settings()))


@topics_app.command("create")
def topics_create() -> None:
    """Create the topics that do not exist yet (idempotent)."""
    try:
        created = asyncio.run(create_topics(_settings()))
    except BrokerUnavailable as error:
        raise _fail(error) from error
    typer.echo(f"created {len(created)} topic(s): {', '.join(created) or '-'}")


@topics_app.command("list")
def topics_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the broker's topics."""
    try:
        names = asyncio.run(list_topics(_settings()))
    except BrokerUnavailable as error:
        raise _fail(error) from error
    typer.echo(json.dumps(names) if as_json else "\n".join(names))


@tenant_app.command("bootstrap")
def tenant_bootstrap() -> None:
    """Create or refresh the tenant named by PROGRESS_BOOTSTRAP_TENANT (idempotent)."""
    settings = _settings()
    try:
        asyncio.run(bootstrap_tenant(settings))
    except StoreUnavailable as error:
        raise _fail(error) from error
    typer.echo(f"tenant '{settings.bootstrap_tenant}' ready")
