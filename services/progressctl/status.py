"""`progressctl status`: consumer lag, retry tier depths, dead letters, each service's health."""

from __future__ import annotations

import json
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from services.progressctl.common import load_settings, with_database
from shared.adapters.connections import Connections
from shared.adapters.dead_letter_store import MongoDeadLetterStore
from shared.adapters.kafka import consumer_lag
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC, tier_group, tier_topic
from shared.service_layer.retry_schedule import RETRY_TIERS

__all__ = ["EXIT_DEGRADED", "status"]

EXIT_DEGRADED = 1
"""Some service is not ready."""


async def _health(settings: Settings) -> dict[str, str]:
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host  # noqa: S104
    ports = {
        "gateway": settings.gateway_port,
        "projector": settings.projector_port,
        "retry-worker": settings.retry_worker_port,
    }
    health: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=3.0) as client:
        for name, port in ports.items():
            try:
                response = await client.get(f"http://{host}:{port}/readyz")
                health[name] = "ready" if response.status_code == 200 else "not ready"
            except httpx.HTTPError:
                health[name] = "down"
    return health


async def gather_status(settings: Settings, opened: Connections) -> dict[str, Any]:
    """Everything `status` shows, as one JSON-ready dict."""
    lag = await consumer_lag(settings, settings.projector_group, EVENTS_TOPIC)
    tiers = {
        tier.name: sum((await consumer_lag(settings, tier_group(tier), tier_topic(tier))).values())
        for tier in RETRY_TIERS
    }
    dead_letters = await MongoDeadLetterStore(opened.db).count()
    return {
        "projectorLag": {str(partition): count for partition, count in sorted(lag.items())},
        "projectorLagTotal": sum(lag.values()),
        "retryTierDepth": tiers,
        "deadLetters": dead_letters,
        "services": await _health(settings),
    }


def _print(report: dict[str, Any]) -> None:
    console = Console()
    lag = Table(title=f"projector lag ({EVENTS_TOPIC})")
    lag.add_column("partition", justify="right")
    lag.add_column("messages behind", justify="right")
    for partition, count in report["projectorLag"].items():
        lag.add_row(partition, str(count))
    lag.add_row("total", str(report["projectorLagTotal"]), style="bold")
    console.print(lag)
    tiers = Table(title="retry tiers")
    tiers.add_column("tier")
    tiers.add_column("waiting", justify="right")
    for tier, depth in report["retryTierDepth"].items():
        tiers.add_row(tier, str(depth))
    console.print(tiers)
    console.print(f"dead letters stored: {report['deadLetters']}")
    for name, state in report["services"].items():
        colour = "green" if state == "ready" else "red"
        console.print(f"{name:13} [{colour}]{state}[/]")


def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show consumer lag per partition, retry tier depths, DLQ size and service health.

    Exit code 0 when every service is ready, 1 when one is not, 3 when Kafka or MongoDB
    cannot be reached.
    """
    settings = load_settings()
    report = with_database(lambda opened: gather_status(settings, opened), settings=settings)
    if as_json:
        typer.echo(json.dumps(report))
    else:
        _print(report)
    if any(state != "ready" for state in report["services"].values()):
        raise typer.Exit(EXIT_DEGRADED)
