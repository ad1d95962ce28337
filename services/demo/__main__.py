"""`python -m services.demo`: serve the SDK demo on 127.0.0.1, port PROGRESS_DEMO_PORT."""

from __future__ import annotations

from services.demo.app import create_app
from shared.adapters.serving import LOOPBACK_HOST, serve


def main() -> None:
    """Run the demo on loopback until SIGINT/SIGTERM (it signs tokens: never public)."""
    serve(create_app, lambda settings: settings.demo_port, graceful_seconds=2, host=LOOPBACK_HOST)


if __name__ == "__main__":
    main()
