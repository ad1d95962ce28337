"""`python -m services.insights`: an insights consumer (group member); health on its port."""

from __future__ import annotations

from services.insights.app import create_app
from shared.adapters.serving import serve


def main() -> None:
    """Consume `progress.changes` until SIGINT/SIGTERM."""
    serve(create_app, lambda settings: settings.insights_port, graceful_seconds=30)


if __name__ == "__main__":
    main()
