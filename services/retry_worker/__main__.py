"""`python -m services.retry_worker`: run the retry/dead-letter worker with uvicorn."""

from __future__ import annotations

import uvicorn

from services.retry_worker.app import create_app
from shared.adapters.logs import configure_logging
from shared.adapters.settings import Settings


def main() -> None:
    """Consume the retry tiers until SIGINT/SIGTERM; health on PROGRESS_RETRY_WORKER_PORT."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.retry_worker_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
