"""`make bench BASELINE=<commit>`: each goal's figure beside the baseline's, in per cent."""

from __future__ import annotations

from typing import Any

from bench.baseline import baseline_argv, known_options
from bench.compare import change, side_by_side


def goal(name: str, figure: float | None, percent: bool = False) -> dict[str, Any]:
    return {"goal": name, "figure": figure, "percent": percent, "shown": "-", "verdict": "n/a"}


def test_each_figure_is_printed_beside_the_baselines_with_the_change() -> None:
    now = [
        goal("projector >= 90 % of the raw limit", 0.86, percent=True),
        goal("gateway p99 < 50 ms", 124.0),
        goal("gateway CPU per event", 0.5),
        goal("a section not run", None),
    ]
    then = {
        "asked": "f6a1bbb",
        "commit": "f6a1bbb0123456789",
        "unknown_sections": ["cpu"],
        "results": {
            "goals": [
                goal("gateway p99 < 50 ms", 100.0),
                goal("projector >= 90 % of the raw limit", 0.80, percent=True),
                goal("a goal since dropped", 7.0),
                goal("a section not run", None),
            ]
        },
    }

    lines = side_by_side(now, then).splitlines()

    assert lines[0] == "Against baseline f6a1bbb (f6a1bbb01234), same sections, same machine"
    assert lines[2].split()[-4:] == ["86%", "80%", "+7.5", "%"]
    assert lines[3].split()[-4:] == ["124", "100", "+24.0", "%"]
    assert lines[4].split()[-3:] == ["0.5", "-", "-"]
    assert lines[5].split()[-3:] == ["-", "7", "-"]
    assert lines[6] == "  not in the baseline: cpu"
    assert len(lines) == 7


def test_a_failed_baseline_is_shown_with_its_error() -> None:
    failed = {
        "asked": "HEAD~5",
        "failed": {"baseline": {"error": "RuntimeError: exited 1 with no results"}},
    }

    assert side_by_side([goal("g", 1.0)], failed).splitlines() == [
        "Against baseline HEAD~5 (?), same sections, same machine",
        "  FAILED baseline: RuntimeError: exited 1 with no results",
    ]


def test_change_is_relative_to_the_baseline_and_blank_without_one() -> None:
    assert change(14.9, 12.0) == "+24.2 %"
    assert change(6.1, 6.1) == "+0.0 %"
    assert change(-2.0, -4.0) == "+50.0 %"
    assert change(1.0, None) == "-"
    assert change(None, 1.0) == "-"
    assert change(1.0, 0.0) == "-"


def test_the_baselines_options_and_sections_are_read_from_its_help() -> None:
    shown = (
        "usage: __main__.py [-h] [--full]\n"
        "  [--only {ingest,xapi,projection} [{ingest,xapi,projection} ...]]\n"
        "  [--runs RUNS] [--out OUT]\n"
    )

    flags, sections = known_options(shown)

    assert sections == {"ingest", "xapi", "projection"}
    assert {"--full", "--only", "--runs", "--out"} <= flags
    assert "--live-rate" not in flags


def test_a_baseline_whose_bench_has_no_runs_option_runs_once_instead_of_refusing() -> None:
    old = (
        "usage: __main__.py [-h] [--full]\n"
        "  [--only {ingest,projection,freshness,growth}\n"
        "          [{ingest,projection,freshness,growth} ...]]\n"
        "  [--out OUT]\n"
    )
    options = {"runs": 3, "full": False, "live_rate": 1500.0, "only": ["projection", "live"]}

    argv, unknown = baseline_argv(old, options)

    assert argv == ["--only", "projection"]
    assert unknown == ["live"]
    shown = side_by_side(
        [], {"asked": "old", "commit": "abc", "one_run": True, "results": {"goals": []}}
    )
    assert "its figures are from one run" in shown
