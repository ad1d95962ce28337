"""`python -m services.progressctl` (also installed as `progressctl`)."""

from __future__ import annotations

from services.progressctl.cli import app


def main() -> None:
    """Run the operator CLI."""
    app()


if __name__ == "__main__":
    main()
