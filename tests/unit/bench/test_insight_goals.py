"""The insights figures in `make bench`'s summary: medians of the runs with their min and max,
and a backlog that never drained judged a miss."""

from __future__ import annotations

import math
from typing import Any

from bench.insights_flow import drain_seconds
from bench.report import goals, summarise


def _run(rate: float, p99_ms: float, lag_ms: float, drained: float) -> dict[str, Any]:
    """One run's insights sections, at 10,000 and 100,000 learners."""
    sizes = [
        {
            "learners": learners,
            "seed_seconds": learners / 120,
            "rebuild_seconds": learners / rate,
            "rebuild_learners_per_second": rate,
            "read": {"p50_ms": p99_ms / 2, "p99_ms": p99_ms},
        }
        for learners in (10_000, 100_000)
    ]
    lag = {
        "probes": 40,
        "lag_p99_ms": lag_ms,
        "consumer_lag_p99_bound_ms": 250.0,
        "freshness_p99_ms": 300.0,
    }
    keep_up = {
        "seconds_to_drain_after_projector": drained,
        "backlog_max": 900.0,
        "sent_events_per_second": 4_000.0,
    }
    return {"insights": sizes, "insights_flow": {"lag": lag, "keep_up": keep_up}}


def _insights(summary: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {goal["goal"]: goal for goal in summary if "insights" in goal["goal"]}


def test_each_insights_figure_is_the_median_of_the_runs_with_min_and_max() -> None:
    runs = [_run(600, 12.0, 400, 2.0), _run(450, 30.0, 700, 1.0), _run(520, 9.0, 500, 4.0)]

    judged = _insights(summarise([goals(run) for run in runs]))

    assert len(judged) == 6
    rebuild = judged["insights rebuild, 100,000 learners (figure, no goal)"]
    assert (rebuild["figure"], rebuild["min"], rebuild["max"], rebuild["runs"]) == (
        520,
        450,
        600,
        3,
    )
    assert (
        rebuild["shown"] == "median 520 learners/s (192.3 s; seeding took 833 s) (min 450, max 600)"
    )
    read = judged["insights read p99 < 50 ms, 100,000 learners"]
    assert (read["figure"], read["min"], read["max"], read["verdict"]) == (12.0, 9.0, 30.0, "PASS")
    lag = judged["insights lag (202 -> visible) p99 < 1000 ms at 1,500 events/s"]
    assert (lag["figure"], lag["min"], lag["max"]) == (500, 400, 700)
    (drain,) = [goal for name, goal in judged.items() if "keeps up" in name]
    assert (drain["figure"], drain["min"], drain["max"], drain["verdict"]) == (
        2.0,
        1.0,
        4.0,
        "PASS",
    )


def test_a_backlog_that_never_drained_is_a_miss_not_a_zero() -> None:
    assert drain_seconds(math.nan, 100.0) == math.inf
    assert drain_seconds(99.0, 100.0) == 0.0
    assert drain_seconds(103.5, 100.0) == 3.5

    runs = [_run(500, 10.0, 500, drain_seconds(math.nan, 100.0)) for _ in range(3)]
    judged = _insights(summarise([goals(run) for run in runs]))

    (drain,) = [goal for name, goal in judged.items() if "keeps up" in name]
    assert drain["verdict"] == "MISS"
    assert "never (backlog left at the timeout)" in drain["shown"]
