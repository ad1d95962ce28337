"""A bench section that raises is reported as FAILED with its error; the others still run.

Each section runs inside `recorded`: an exception is kept in the run's results under
`failed` (the error's type and message, and its traceback for the results file) and printed
at once, so that one section's timeout on a slow machine costs its own figures only, not the
whole run's results file and chart.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["failures", "recorded"]


@contextmanager
def recorded(results: dict[str, Any], *sections: str) -> Iterator[None]:
    """Run the block; if it raises, record the failure under each of `sections` and go on.

    A section already recorded as failed (by a guard nested inside this one) keeps its own
    record. `KeyboardInterrupt` and `SystemExit` are not caught: an operator's Ctrl-C ends
    the run.
    """
    try:
        yield
    except Exception as error:
        failure = {
            "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(),
        }
        failed = results.setdefault("failed", {})
        for section in sections:
            failed.setdefault(section, failure)
        print(f"  !! {', '.join(sections)} FAILED: {failure['error']}", file=sys.stderr, flush=True)


def failures(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every section that failed, in every run: {run (from 1), section, error, traceback}."""
    return [
        {"run": number, "section": section, **failure}
        for number, run in enumerate(runs, start=1)
        for section, failure in (run.get("failed") or {}).items()
    ]
