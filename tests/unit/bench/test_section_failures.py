"""`make bench` runs to the end when a section raises: the section is reported FAILED with
its error, the other sections still run, and the results file and chart are written."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as bench_main
from shared.service_layer.errors import StoreTimeout


def _timed_out(sizes: Any) -> list[dict[str, Any]]:
    raise StoreTimeout("the database did not answer within 2000 ms")


def _token_figures() -> dict[str, Any]:
    return {
        name: {"p50_ms": 0.1, "p99_ms": 0.2, "wall_p50_ms": 0.1, "wall_p99_ms": 0.2}
        for name in ("HS256", "RS256", "ES256")
    } | {"verifications": 10}


def test_a_failing_section_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_main.ingest, "run", _timed_out)
    monkeypatch.setattr(bench_main.token_verify, "run", _token_figures)
    monkeypatch.setattr(
        sys,
        "argv",
        ["bench", "--only", "ingest", "token_verify", "--runs", "2", "--out", str(tmp_path)],
    )

    bench_main.main()

    (written,) = tmp_path.glob("*.json")
    assert written.with_suffix(".png").exists()
    results = json.loads(written.read_text())
    assert results["token_verify"]["verifications"] == 10
    assert [(f["run"], f["section"]) for f in results["failures"]] == [(1, "ingest"), (2, "ingest")]
    failure = results["failures"][0]
    assert failure["error"] == "StoreTimeout: the database did not answer within 2000 ms"
    assert "_timed_out" in failure["traceback"]
    printed = capsys.readouterr().out
    assert "FAILED ingest           run 1: StoreTimeout: the database did not answer" in printed
    assert "PASS  RS256/ES256 verify adds" in printed


def test_projection_and_growth_fail_apart_on_their_shared_lab() -> None:
    assert bench_main._units(["ingest", "growth", "live", "projection"]) == [
        ("ingest",),
        ("projection", "growth"),
        ("live",),
    ]
