"""`python -m services.retry_worker`: the retry/dead-letter worker; health on its port."""

from __future__ import annotations

from services.retry_worker.app import create_app
from shared.adapters.serving import serve


def main() -> None:
    """Consume the retry tiers until SIGINT/SIGTERM."""
    serve(create_app, lambda settings: settings.retry_worker_port, graceful_seconds=30)


if __name__ == "__main__":
    main()
