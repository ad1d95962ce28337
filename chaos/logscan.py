"""What the services logged as errors during the run, grouped by cause.

A 5xx answer says only "Internal Server Error"; the service's own log says why. Each
service writes structlog JSON lines; an error line's cause is its event plus the last line
of its traceback (`UnicodeDecodeError: ...`, `RecursionError: ...`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from chaos.stack import SERVICES

__all__ = ["error_causes"]

_LEVELS = {"error", "critical", "exception"}


def error_causes(logs: Path, top: int = 15) -> dict[str, int]:
    """The most frequent error causes, as `service: event: last traceback line` → count."""
    causes: Counter[str] = Counter()
    for service in SERVICES:
        path = logs / f"{service}.log"
        if not path.exists():
            continue
        with path.open(errors="replace") as lines:
            for line in lines:
                if '"level": "' not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(entry, dict) or entry.get("level") not in _LEVELS:
                    continue
                causes[f"{service}: {_cause(entry)}"] += 1
    return dict(causes.most_common(top))


def _cause(entry: dict[str, object]) -> str:
    event = str(entry.get("event", "")).strip()
    trace = str(entry.get("exception", "")).strip().splitlines()
    last = trace[-1].strip() if trace else str(entry.get("error", ""))
    return f"{event[:60]}: {last[:160]}" if last else event[:120]
