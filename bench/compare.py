"""Each goal's figure beside a baseline commit's, with the difference in per cent."""

from __future__ import annotations

from typing import Any

from bench.report import _shown

__all__ = ["change", "side_by_side"]


def change(figure: float | None, baseline: float | None) -> str:
    """`figure` against `baseline` in per cent ("+24.0 %"); "-" when either is missing or 0."""
    if figure is None or baseline is None or baseline == 0:
        return "-"
    return f"{(figure - baseline) / abs(baseline):+.1%}".replace("%", " %")


def side_by_side(goals: list[dict[str, Any]], baseline: dict[str, Any]) -> str:
    """The goals' figures (medians) now, the baseline's, and the change.

    `baseline` is what `baseline.measure` returned, or the record of its failure. Goals are
    matched by name; one only the baseline has is listed after the others.
    """
    commit = str(baseline.get("commit", "?"))[:12]
    head = f"Against baseline {baseline['asked']} ({commit}), same sections, same machine"
    failed = baseline.get("failed")
    if failed:
        return "\n".join([head, *(f"  FAILED {name}: {f['error']}" for name, f in failed.items())])
    theirs = {goal["goal"]: goal for goal in baseline["results"].get("goals", [])}
    lines = [head, f"  {'goal':<64} {'now':>12} {'baseline':>12} {'change':>9}"]
    for goal in goals:
        other = theirs.pop(goal["goal"], None)
        lines.append(_row(goal["goal"], goal, other))
    lines.extend(_row(name, None, other) for name, other in theirs.items())
    if baseline.get("unknown_sections"):
        lines.append(f"  not in the baseline: {', '.join(baseline['unknown_sections'])}")
    return "\n".join(lines)


def _row(name: str, now: dict[str, Any] | None, then: dict[str, Any] | None) -> str:
    def shown(goal: dict[str, Any] | None) -> str:
        return "-" if goal is None or goal.get("figure") is None else _shown(goal)

    figure = now.get("figure") if now else None
    before = then.get("figure") if then else None
    return f"  {name:<64} {shown(now):>12} {shown(then):>12} {change(figure, before):>9}"
