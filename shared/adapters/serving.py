"""Serving a service's ASGI app with uvicorn: one way for all three services."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI
from prometheus_client import start_http_server

from shared.adapters.http_protocol import header_deadline_protocol
from shared.adapters.logs import configure_logging, get_logger
from shared.adapters.settings import Settings

__all__ = ["LOOPBACK_HOST", "run_server", "serve", "serve_metrics"]

LOOPBACK_HOST = "127.0.0.1"
"""The address of a service that must stay on this machine (the demo, which signs tokens)."""

_MAX_HEAD_BYTES = 16 * 1024

log = get_logger(__name__)


_STARTUP_FAILURE = 3
"""uvicorn's exit status when the app did not start."""


class _DrainingServer(uvicorn.Server):
    """uvicorn's server, telling the app first when it starts to shut down.

    uvicorn waits for open connections before the app's lifespan ends, so a response that
    never ends by itself (a live stream) must learn of the shutdown before that wait.
    """

    def __init__(self, config: uvicorn.Config, draining: Callable[[], None]) -> None:
        super().__init__(config)
        self._draining = draining

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Tell the app, then stop accepting and wait for its connections as uvicorn does."""
        self._draining()
        await super().shutdown(sockets)


def serve(
    create_app: Callable[[Settings], FastAPI],
    port: Callable[[Settings], int],
    *,
    graceful_seconds: int,
    host: str | None = None,
    draining: Callable[[FastAPI], None] = lambda app: None,
) -> None:
    """Build the app from `PROGRESS_*` settings and serve it until SIGINT/SIGTERM.

    Logging is configured first, so start-up failures are JSON lines like everything else;
    metrics are served apart (`serve_metrics`). `graceful_seconds` bounds how long
    in-flight work may finish on shutdown. Slow clients are bounded here: a request head
    must arrive within `PROGRESS_HTTP_HEADER_TIMEOUT_SECONDS` (uvicorn itself has no such
    deadline), an idle keep-alive connection closes after
    `PROGRESS_HTTP_KEEP_ALIVE_SECONDS`, a head may not exceed 16 KiB, and past
    `PROGRESS_HTTP_MAX_CONNECTIONS` open connections uvicorn answers 503 at once. `host`
    overrides `PROGRESS_HTTP_HOST` for a service that must never leave one address.
    `X-Forwarded-For` names the client only on connections from `PROGRESS_TRUSTED_PROXIES`
    (off by default: uvicorn would otherwise trust it from 127.0.0.1), so limits kept per
    client address see clients, not the load balancer, and no client can pick its address.
    A service outside `PROGRESS_ENVIRONMENT=development` refuses to start on a public
    default secret. `draining` runs when shutdown begins, before uvicorn waits for open
    connections (the gateway ends its live streams there).
    """
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    problem = settings.production_problem()
    if problem is not None:
        log.error("refused_to_start", reason=problem)
        raise SystemExit(f"error: {problem}")
    serve_metrics(settings)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host or settings.http_host,
        port=port(settings),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=graceful_seconds,
        http=header_deadline_protocol(settings.http_header_timeout_seconds),
        timeout_keep_alive=settings.http_keep_alive_seconds,
        h11_max_incomplete_event_size=_MAX_HEAD_BYTES,
        limit_concurrency=settings.http_max_connections,
        proxy_headers=bool(settings.trusted_proxy_list),
        forwarded_allow_ips=settings.trusted_proxy_list,
    )
    run_server(config, lambda: draining(app))


def run_server(config: uvicorn.Config, draining: Callable[[], None]) -> None:
    """Serve until SIGINT/SIGTERM; `draining` runs when shutdown begins.

    `uvicorn.run`'s single-process path with that hook: status 3 if the app did not start.
    """
    server = _DrainingServer(config, draining)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise SystemExit(_STARTUP_FAILURE)


def serve_metrics(settings: Settings) -> None:
    """Serve `/metrics` on `PROGRESS_METRICS_HOST`:`PROGRESS_METRICS_PORT`, in a thread.

    Not on the service's own port, which may be public (the gateway's): operators choose
    where Prometheus scrapes, loopback by default. A port already taken stops start-up.
    """
    try:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    except OSError as error:
        log.error(
            "metrics_port_unavailable",
            host=settings.metrics_host,
            port=settings.metrics_port,
            error=str(error),
        )
        raise
