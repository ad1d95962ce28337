"""`python -m services.projector`: run the projector (consumer group member) with uvicorn."""

from __future__ import annotations

import uvicorn

from services.projector.app import create_app
from shared.adapters.logs import configure_logging
from shared.adapters.settings import Settings


def main() -> None:
    """Consume `progress.events` until SIGINT/SIGTERM; health on PROGRESS_PROJECTOR_PORT."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.projector_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
