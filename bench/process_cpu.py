"""CPU time of a process from `/proc/<pid>/stat`: user + system, its children excluded.

The CPU a service spent per event it handled is its cost on any machine: unlike events/s,
it does not fall when the load generator and the servers share the cores (a busy machine
still adds cache and scheduling effects, so figures from a loaded machine are indicative).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CLOCK_TICKS", "cpu_seconds", "parse_cpu_seconds", "per_event_ms"]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
"""Units of `utime` and `stime` per second."""

_UTIME = 11
"""Index of `utime` (field 14 of proc(5)) among the fields after the command name."""


def parse_cpu_seconds(stat: str, ticks: int = CLOCK_TICKS) -> float:
    """User + system CPU seconds in a `/proc/<pid>/stat` line (`cutime`/`cstime` left out).

    The command name (field 2) is in parentheses and may hold spaces and parentheses
    itself, so the fields are counted after its last closing parenthesis.
    """
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[_UTIME]) + int(fields[_UTIME + 1])) / ticks


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process `pid` has spent so far."""
    return parse_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())


def per_event_ms(cpu: float, events: float) -> float | None:
    """Milliseconds of CPU per event, or None when no event was handled."""
    return cpu / events * 1000 if events > 0 else None
