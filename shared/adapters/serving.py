"""Serving a service's ASGI app with uvicorn: one way for all three services."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from shared.adapters.logs import configure_logging
from shared.adapters.settings import Settings

__all__ = ["serve"]


def serve(
    create_app: Callable[[Settings], FastAPI],
    port: Callable[[Settings], int],
    *,
    graceful_seconds: int,
) -> None:
    """Build the app from `PROGRESS_*` settings and serve it until SIGINT/SIGTERM.

    Logging is configured first, so start-up failures are JSON lines like everything else;
    `graceful_seconds` bounds how long in-flight work may finish on shutdown.
    """
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=port(settings),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=graceful_seconds,
    )
