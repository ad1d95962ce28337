"""`progressctl run`: the whole embedded stack in the foreground, supervised.

Hand-written rather than supervisord or honcho: the stack must start in order (broker and
database listening → topics and tenant → parked messages back → services → Prometheus),
refuse clearly when a port is taken, drain the projector and park what is still unconsumed
before the in-memory broker goes away, and share its server launcher with the test suite.
Each child gets SIGKILL if this process dies, so none is left behind.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

from rich.console import Console

from services.progressctl.monitoring import metrics_ports, prometheus_server
from services.progressctl.parking import park_stack, unpark_stack
from services.progressctl.provisioning import prepare_stack
from shared.adapters.embedded import (
    EmbeddedServer,
    PortInUse,
    ServerFailed,
    broker_server,
    database_server,
    port_in_use,
    split_host_port,
)
from shared.adapters.kafka import consumer_lag
from shared.adapters.mongo import PARKED
from shared.adapters.serving import LOOPBACK_HOST
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from shared.service_layer.errors import BrokerUnavailable, StoreUnavailable

__all__ = ["StackPlan", "plan_stack", "run_stack"]

console = Console(stderr=True, highlight=False)
_DRAIN_SECONDS = 15.0
_RESTART_CAP_SECONDS = 30.0
_HEALTHY_UPTIME_SECONDS = 60.0


@dataclass
class StackPlan:
    """The processes of the embedded stack; Prometheus is optional (`monitor` says why not)."""

    broker: EmbeddedServer
    database: EmbeddedServer
    services: list[EmbeddedServer]
    prometheus: EmbeddedServer | None
    monitor: str


@dataclass
class _Supervised:
    """A service process and its restart bookkeeping."""

    server: EmbeddedServer
    failures: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    history: list[float] = field(default_factory=list)


def _service(
    settings: Settings,
    name: str,
    module: str,
    port: int,
    env: dict[str, str] | None = None,
    host: str | None = None,
) -> EmbeddedServer:
    return EmbeddedServer(
        name=name,
        argv=[sys.executable, "-m", module],
        host=host or settings.http_host,
        port=port,
        log_path=settings.data_dir / "logs" / f"{name}.log",
        env={
            "PROGRESS_KAFKA_IDEMPOTENT": "false",
            "PROGRESS_ENVIRONMENT": "development",
            **(env or {}),
        },
    )


def demo_url(settings: Settings) -> str:
    """Where `make run` serves the SDK demo: always loopback, whatever the gateway's host."""
    return f"http://{LOOPBACK_HOST}:{settings.demo_port}"


def _services(settings: Settings) -> list[EmbeddedServer]:
    # The demo page calls the gateway from its own origin, as a real app would.
    origins = ",".join([*settings.cors_origin_list, demo_url(settings)])
    metrics = {
        name: {"PROGRESS_METRICS_PORT": str(port)} for name, port in metrics_ports(settings).items()
    }
    return [
        _service(
            settings,
            "gateway",
            "services.gateway",
            settings.gateway_port,
            {"PROGRESS_CORS_ORIGINS": origins, **metrics["gateway"]},
        ),
        _service(
            settings,
            "projector",
            "services.projector",
            settings.projector_port,
            metrics["projector"],
        ),
        _service(
            settings,
            "retry-worker",
            "services.retry_worker",
            settings.retry_worker_port,
            metrics["retry-worker"],
        ),
        _service(
            settings,
            "insights",
            "services.insights",
            settings.insights_port,
            metrics["insights"],
        ),
        _service(
            settings,
            "demo",
            "services.demo",
            settings.demo_port,
            metrics["demo"],
            host=LOOPBACK_HOST,
        ),
    ]


def _taken_ports(servers: list[EmbeddedServer]) -> list[str]:
    return [
        f"  {server.name}: {server.host}:{server.port}"
        for server in servers
        if port_in_use(server.host, server.port)
    ]


class _Stopping(Exception):
    """Raised by the signal handler to unwind start-up or the supervision loop."""


def _on_signal(signum: int, _: FrameType | None) -> None:
    raise _Stopping(signal.Signals(signum).name)


async def _drain(settings: Settings) -> None:
    deadline = time.monotonic() + _DRAIN_SECONDS
    while time.monotonic() < deadline:
        try:
            lag = await consumer_lag(settings, settings.projector_group, EVENTS_TOPIC)
        except BrokerUnavailable:
            return
        if sum(lag.values()) == 0:
            return
        await asyncio.sleep(0.5)
    console.print("[yellow]projector did not drain in time; what it has not projected is parked[/]")


def _supervise(services: list[_Supervised]) -> None:
    while True:
        now = time.monotonic()
        for item in services:
            if item.restart_at is not None and now >= item.restart_at:
                item.restart_at = None
                try:
                    item.server.start()
                    item.started_at = time.monotonic()
                    console.print(f"[green]restarted {item.server.name}[/]")
                except (ServerFailed, PortInUse) as error:
                    console.print(f"[red]{error}[/]")
                    item.restart_at = now + min(_RESTART_CAP_SECONDS, 2**item.failures)
                    item.failures += 1
            elif item.restart_at is None and not item.server.running():
                if now - item.started_at > _HEALTHY_UPTIME_SECONDS:
                    item.failures = 0
                delay = min(_RESTART_CAP_SECONDS, 2**item.failures)
                item.failures += 1
                code = item.server.process.returncode if item.server.process else None
                console.print(
                    f"[red]{item.server.name} exited ({code}); restarting in {delay:.0f}s[/]"
                    f" - log: {item.server.log_path}"
                )
                item.restart_at = now + delay
        time.sleep(0.25)


def _banner(settings: Settings, monitor: str) -> None:
    gateway = f"http://{settings.http_host}:{settings.gateway_port}"
    key = settings.bootstrap_api_key.get_secret_value()
    metrics = {
        name: f"http://{settings.metrics_host}:{port}/metrics"
        for name, port in metrics_ports(settings).items()
    }
    console.print(
        "\n[bold]Progress Sync is up[/] (Ctrl-C stops everything)\n"
        f"  gateway       {gateway}   (/healthz /readyz /docs)\n"
        f"  metrics       {metrics['gateway']}\n"
        f"  projector     {metrics['projector']}\n"
        f"  retry worker  {metrics['retry-worker']}\n"
        f"  insights      {metrics['insights']}\n"
        f"  demo          {demo_url(settings)}/   (a course player on the browser SDK)\n"
        f"  prometheus    {monitor}\n"
        f"  kafka         {settings.kafka_bootstrap} (embedded Tansu, in memory: Ctrl-C parks"
        " what is unconsumed in MongoDB)\n"
        f"  mongodb       {settings.mongo_url} (embedded SecantusDB)\n"
        f"  data          {settings.data_dir / 'mongo'}\n"
        f"  logs          {settings.data_dir / 'logs'}\n"
        f"  tenant        {settings.bootstrap_tenant}\n"
        f"  API key       {key}\n"
        f"  signing secret {settings.bootstrap_signing_secret.get_secret_value()}\n"
        f"\n  try: curl -s -H 'Authorization: Bearer {key}' {gateway}/v1/users/u1/progress\n"
    )


def plan_stack(settings: Settings) -> StackPlan:
    """The stack's processes, not started; Prometheus only if installed and its port is free."""
    kafka_host, kafka_port = split_host_port(settings.kafka_bootstrap, 9092)
    mongo_host, mongo_port = split_host_port(settings.mongo_url, 27017)
    logs = settings.data_dir / "logs"
    prometheus = prometheus_server(settings)
    address = f"http://{settings.http_host}:{settings.prometheus_port}"
    monitor = (
        f"{address}   (/alerts /targets; rules: deploy/prometheus/alerts.yml)"
        if prometheus is not None
        else "not started: no `prometheus` binary (apt-get install prometheus)"
    )
    if prometheus is not None and port_in_use(prometheus.host, prometheus.port):
        monitor = f"not started: {address} is in use (choose PROGRESS_PROMETHEUS_PORT)"
        prometheus = None
    return StackPlan(
        broker=broker_server(kafka_host, kafka_port, logs),
        database=database_server(mongo_host, mongo_port, settings.data_dir / "mongo", logs),
        services=_services(settings),
        prometheus=prometheus,
        monitor=monitor,
    )


def _start_prometheus(stack: StackPlan) -> None:
    """Start the optional Prometheus; a failure is reported in the banner, not fatal."""
    if stack.prometheus is None:
        return
    console.print(f"starting prometheus on {stack.prometheus.host}:{stack.prometheus.port}")
    try:
        stack.prometheus.start()
    except (ServerFailed, PortInUse) as error:
        stack.monitor = f"not started: {error} - log: {stack.prometheus.log_path}"
        stack.prometheus.stop()
        stack.prometheus = None


def run_stack(settings: Settings) -> int:
    """Run broker, database and the three services until SIGINT/SIGTERM; return an exit code."""
    # The embedded broker (Tansu) refuses the idempotent producer, for every client of it.
    settings = settings.model_copy(update={"kafka_idempotent": False})
    stack = plan_stack(settings)
    taken = _taken_ports([stack.broker, stack.database, *stack.services])
    if taken:
        console.print(
            "[red]Cannot start: these addresses are already in use:[/]\n"
            + "\n".join(taken)
            + "\nStop whatever holds them (an earlier `make run`?) or choose other ports with "
            "PROGRESS_KAFKA_BOOTSTRAP, PROGRESS_MONGO_URL, PROGRESS_GATEWAY_PORT, "
            "PROGRESS_PROJECTOR_PORT, PROGRESS_RETRY_WORKER_PORT."
        )
        return 2
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for server in (stack.broker, stack.database):
            console.print(f"starting {server.name} on {server.host}:{server.port}")
            server.start()
        created = asyncio.run(prepare_stack(settings))
        console.print(
            f"topics ready ({len(created)} created); tenant '{settings.bootstrap_tenant}' ready"
        )
        republished = asyncio.run(unpark_stack(settings))
        if republished:
            console.print(f"re-published {republished} parked message(s) onto their topics")
        for server in stack.services:
            console.print(f"starting {server.name} on {server.host}:{server.port}")
            server.launch()
        for server in stack.services:
            server.wait(timeout=90.0)
        _start_prometheus(stack)
        supervised = [_Supervised(server, started_at=time.monotonic()) for server in stack.services]
        _banner(settings, stack.monitor)
        _supervise(supervised)
    except _Stopping as stop:
        console.print(f"\n{stop}: stopping")
    except (ServerFailed, PortInUse, BrokerUnavailable, StoreUnavailable) as error:
        console.print(f"[red]{error}[/]")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _shutdown(settings, stack)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _shutdown(settings: Settings, stack: StackPlan) -> None:
    """Stop in the order that keeps every accepted event: no intake, drain, park, then stop.

    Stopping a server that never started does nothing, so this is safe at any point.
    """
    gateway, projector = stack.services[:2]
    gateway.stop()
    if projector.running():
        asyncio.run(_drain(settings))
    for server in reversed(stack.services):
        server.stop()
    if stack.broker.running() and stack.database.running():
        _park(settings)
    for underneath in (stack.prometheus, stack.database, stack.broker):
        if underneath is not None:
            underneath.stop()
    console.print("stopped: no process left behind")


def _park(settings: Settings) -> None:
    """Keep what the consumers have not consumed in MongoDB, before the broker forgets it."""
    try:
        parked = asyncio.run(park_stack(settings))
    except (BrokerUnavailable, StoreUnavailable) as error:
        console.print(f"[red]could not park unconsumed messages, they are lost: {error}[/]")
        return
    if parked:
        console.print(
            f"parked {parked} unconsumed message(s) in MongoDB ({PARKED}); "
            "the next start re-publishes them"
        )
