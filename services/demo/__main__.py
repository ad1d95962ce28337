"""`python -m services.demo`: serve the SDK demo on PROGRESS_DEMO_PORT."""

from __future__ import annotations

from services.demo.app import create_app
from shared.adapters.serving import serve


def main() -> None:
    """Run the demo until SIGINT/SIGTERM."""
    serve(create_app, lambda settings: settings.demo_port, graceful_seconds=2)


if __name__ == "__main__":
    main()
