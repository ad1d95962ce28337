"""`python -m services.gateway`: serve the ingest gateway on PROGRESS_GATEWAY_PORT."""

from __future__ import annotations

from services.gateway.app import create_app, end_streams
from shared.adapters.serving import serve


def main() -> None:
    """Run the gateway until SIGINT/SIGTERM."""
    serve(
        create_app,
        lambda settings: settings.gateway_port,
        graceful_seconds=10,
        draining=end_streams,
    )


if __name__ == "__main__":
    main()
