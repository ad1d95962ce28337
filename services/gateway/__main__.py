"""`python -m services.gateway`: serve the ingest gateway with uvicorn."""

from __future__ import annotations

import uvicorn

from services.gateway.app import create_app
from shared.adapters.logs import configure_logging
from shared.adapters.settings import Settings


def main() -> None:
    """Run the gateway on PROGRESS_HTTP_HOST:PROGRESS_GATEWAY_PORT until SIGINT/SIGTERM."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
