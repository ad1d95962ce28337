"""`python -m services.projector`: a projector (consumer group member); health on its port."""

from __future__ import annotations

from services.projector.app import create_app
from shared.adapters.serving import serve


def main() -> None:
    """Consume `progress.events` until SIGINT/SIGTERM."""
    serve(create_app, lambda settings: settings.projector_port, graceful_seconds=30)


if __name__ == "__main__":
    main()
