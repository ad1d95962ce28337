"""What every `progressctl` command shares: settings, logging and the exit codes."""

from __future__ import annotations

import typer

from shared.adapters.logs import configure_logging
from shared.adapters.settings import Settings

__all__ = ["EXIT_CONFLICT", "EXIT_UNAVAILABLE", "load_settings", "refuse", "unavailable"]

EXIT_CONFLICT = 1
"""The named thing does not exist, or already exists (2 is Typer's exit code for bad usage)."""

EXIT_UNAVAILABLE = 3
"""Kafka or MongoDB could not be reached: retry later, nothing is wrong with the command."""


def load_settings() -> Settings:
    """The `PROGRESS_*` settings, with logging configured from them (logs go to stderr)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def unavailable(error: Exception) -> typer.Exit:
    """Report an outage on stderr; the caller raises the returned exit (code 3)."""
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_UNAVAILABLE)


def refuse(error: Exception) -> typer.Exit:
    """Report a missing or conflicting object on stderr; the caller raises the exit (code 1)."""
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_CONFLICT)
