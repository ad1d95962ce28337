"""Each goal's figure beside a baseline commit's, with the difference in per cent."""

from __future__ import annotations

from typing import Any

from bench.report import _shown

__all__ = ["change", "side_by_side"]

_Goal = dict[str, Any] | None
"""One goal as `report.goals` judges it, or None where one side has no such goal."""


def change(figure: float | None, baseline: float | None) -> str:
    """`figure` against `baseline` in per cent ("+24.0 %"); "-" when either is missing or 0."""
    if figure is None or baseline is None or baseline == 0:
        return "-"
    return f"{(figure - baseline) / abs(baseline):+.1%}".replace("%", " %")


def side_by_side(goals: list[dict[str, Any]], baseline: dict[str, Any]) -> str:
    """The goals' figures (medians) now, the baseline's, and the change.

    `baseline` is what `baseline.measure` returned, or the record of its failure. Goals are
    matched by name; one only the baseline has is listed after the others; one measured on
    neither side (a section not run) is left out.
    """
    commit = str(baseline.get("commit", "?"))[:12]
    head = f"Against baseline {baseline['asked']} ({commit}), same sections, same machine"
    failed = baseline.get("failed")
    if failed:
        return "\n".join([head, *(f"  FAILED {name}: {f['error']}" for name, f in failed.items())])
    theirs = {goal["goal"]: goal for goal in baseline["results"].get("goals", [])}
    lines = [head, f"  {'goal':<64} {'now':>12} {'baseline':>12} {'change':>9}"]
    rows: list[tuple[str, _Goal, _Goal]] = [
        (goal["goal"], goal, theirs.pop(goal["goal"], None)) for goal in goals
    ]
    rows += [(name, None, other) for name, other in theirs.items()]
    lines.extend(
        _row(*row) for row in rows if _figure(row[1]) is not None or _figure(row[2]) is not None
    )
    if baseline.get("unknown_sections"):
        lines.append(f"  not in the baseline: {', '.join(baseline['unknown_sections'])}")
    if baseline.get("one_run"):
        lines.append("  the baseline's bench has no --runs: its figures are from one run")
    return "\n".join(lines)


def _figure(goal: _Goal) -> float | None:
    return goal.get("figure") if goal else None


def _row(name: str, now: _Goal, then: _Goal) -> str:
    def shown(goal: _Goal) -> str:
        return "-" if goal is None or _figure(goal) is None else _shown(goal)

    change_shown = change(_figure(now), _figure(then))
    return f"  {name:<64} {shown(now):>12} {shown(then):>12} {change_shown:>9}"
