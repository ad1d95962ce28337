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


_NOT_CAUSES = ("Traceback", "During handling", "The above exception", "File ", "For further")


def _cause(entry: dict[str, object]) -> str:
    """The event and the last exception line of the traceback (with its first detail line)."""
    event = str(entry.get("event", "")).strip()
    trace = str(entry.get("exception", "")).rstrip().splitlines()
    heads = [
        index
        for index, line in enumerate(trace)
        if line and not line[0].isspace() and not line.startswith(_NOT_CAUSES) and ":" in line
    ]
    if not heads:
        detail = str(entry.get("error", "")).strip()
        return f"{event[:60]}: {detail[:160]}" if detail else event[:120]
    head = trace[heads[-1]].strip()
    following = trace[heads[-1] + 1].strip() if heads[-1] + 1 < len(trace) else ""
    if following and not following.startswith(_NOT_CAUSES):
        head = f"{head} / {following}"
    return f"{event[:60]}: {head[:200]}"
