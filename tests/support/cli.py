"""`progressctl` run in-process against a test stack's database."""

from __future__ import annotations

from typer.testing import CliRunner

from services.progressctl.cli import app
from shared.adapters.settings import Settings

__all__ = ["progressctl"]


def progressctl(settings: Settings, *args: str) -> str:
    """Run `progressctl` against the stack's database; its stdout (a failure fails the test)."""
    env = {
        "PROGRESS_MONGO_URL": settings.mongo_url,
        "PROGRESS_MONGO_DATABASE": settings.mongo_database,
        "PROGRESS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PROGRESS_JWKS_ALLOW_LOOPBACK_HTTP": str(settings.jwks_allow_loopback_http).lower(),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout
