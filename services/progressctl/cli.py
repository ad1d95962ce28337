"""`progressctl`: the operator's one command line for Progress Sync."""

from __future__ import annotations

import json

import typer

from services.progressctl.catalog import catalog_app
from services.progressctl.common import load_settings, run_command
from services.progressctl.dlq import dlq_app
from services.progressctl.erase import erase, erasure_app, reenable
from services.progressctl.importing import import_states
from services.progressctl.insights import insights_app
from services.progressctl.rebuild import rebuild
from services.progressctl.stack import run_stack
from services.progressctl.status import status
from services.progressctl.tenants import tenant_app, token
from shared.adapters.topic_admin import TopicsMisconfigured, create_topics, grow_topics, list_topics

__all__ = ["app"]

app = typer.Typer(
    name="progressctl",
    help="Operate Progress Sync: run the embedded stack, manage topics and tenants.",
    no_args_is_help=True,
    add_completion=False,
)
topics_app = typer.Typer(help="Kafka topics of Progress Sync.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(tenant_app, name="tenant")
app.add_typer(catalog_app, name="catalog")
app.add_typer(dlq_app, name="dlq")
app.add_typer(erasure_app, name="erasure")
app.add_typer(insights_app, name="insights")
app.command("token")(token)
app.command("rebuild")(rebuild)
app.command("erase")(erase)
app.command("reenable")(reenable)
app.command("import")(import_states)
app.command("status")(status)


@app.command()
def run() -> None:
    """Run the embedded stack (broker, database, gateway, projector, retry worker)."""
    raise typer.Exit(run_stack(load_settings()))


@topics_app.command("create")
def topics_create() -> None:
    """Create the missing topics with their settings; verify the ones that exist.

    Exits 1 naming every difference when an existing topic is not as the settings say.
    """
    created = run_command(create_topics(load_settings()), refused=(TopicsMisconfigured,))
    typer.echo(f"created {len(created)} topic(s): {', '.join(created) or '-'}")


@topics_app.command("grow")
def topics_grow(
    partitions: int = typer.Option(
        ..., "--partitions", min=1, help="Partitions every topic should have (never fewer)."
    ),
) -> None:
    """Add partitions to every topic with fewer than --partitions (Kafka cannot remove any).

    Set PROGRESS_KAFKA_PARTITIONS to the same number afterwards, so new processes expect it.
    """
    grown = run_command(grow_topics(load_settings(), partitions), refused=(TopicsMisconfigured,))
    typer.echo(f"grew {len(grown)} topic(s) to {partitions} partitions: {', '.join(grown) or '-'}")


@topics_app.command("list")
def topics_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the broker's topics."""
    names = run_command(list_topics(load_settings()))
    typer.echo(json.dumps(names) if as_json else "\n".join(names))
