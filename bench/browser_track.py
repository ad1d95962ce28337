"""The JS SDK's `track()` latency in Chromium (IndexedDB outbox) and in Node (file outbox).

The issue's bound: `track()` under 1 ms at p99 with 10,000 events pending. The page queues
`--pending` events (the flush debounce is set to an hour, the network never answers), then
times `--samples` more `track()` calls, each until its outbox write resolved. It does so
twice: bare, and with an `onSnapshot` listener, as an app that renders the optimistic
snapshot has (every pending event names another item: the worst case for that fold).
In Node (bench/node_track.mjs, a fresh working directory per run) each call is timed until
its append to the outbox file resolved.

Run: `.venv/bin/python -m bench.browser_track` (needs a built SDK: `npm ci && npm run build`
in clients/js; Node 20+; Debian's chromium for the browser figures). Prints one JSON line
per run and writes bench/results/browser-track-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import percentile
from tests.support.browser import BUNDLE, CHROMIUM, CHROMIUM_ARGS, static_site

RESULTS = Path(__file__).parent / "results"
NODE_TRACK = Path(__file__).parent / "node_track.mjs"

TRACK_LOOP = Path(__file__).parent / "track_loop.mjs"
# The shared loop as a page function: the module's function, called with the page's SDK.
_LOOP = (
    "async (args) => {"
    + TRACK_LOOP.read_text().replace("export async function", "async function")
    + "\nreturn timeTrack(window.sdk, args); }"
)


def measure(pending: int, samples: int, runs: int, listen: bool = False) -> list[dict[str, float]]:
    """One summary per run: p50, p99 and max of `samples` timed calls, in milliseconds."""
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as root,
        static_site(Path(root)) as origin,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{origin}/index.html")
        page.wait_for_function("window.ready === true")
        summaries = []
        for run in range(runs):
            arguments = {"pending": pending, "samples": samples, "run": run, "listen": listen}
            summaries.append(_summary(page.evaluate(_LOOP, arguments)))
        browser.close()
        return summaries


def measure_node(pending: int, samples: int, runs: int) -> list[dict[str, float]]:
    """As `measure`, in Node: each run in a fresh directory, so with a fresh outbox file."""
    summaries = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as root:
            arguments = [BUNDLE.as_uri(), str(pending), str(samples)]
            answer = subprocess.run(
                ["node", str(NODE_TRACK), *arguments],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            summaries.append(_summary(json.loads(answer.stdout)))
    return summaries


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(times, 0.5), 3),
        "p99_ms": round(percentile(times, 0.99), 3),
        "max_ms": round(max(times), 3),
    }


def run(pending: int = 10_000, samples: int = 1_000, runs: int = 3) -> dict[str, Any] | None:
    """The figures `make bench` reports: each run, and the median, min and max p99.

    Chromium's at the top level, Node's under `node`; None without a built SDK.
    """
    if not BUNDLE.exists():
        return None
    result: dict[str, Any] = {"pending": pending, "samples": samples}
    if shutil.which("node"):
        in_node = measure_node(pending, samples, runs)
        result["node"] = {"runs": in_node, "p99_ms": _spread([s["p99_ms"] for s in in_node])}
    if CHROMIUM.exists():
        summaries = measure(pending, samples, runs)
        rendering = measure(pending, samples, runs, listen=True)
        result["runs"] = summaries
        result["p99_ms"] = _spread([summary["p99_ms"] for summary in summaries])
        result["with_snapshot_listener"] = {
            "runs": rendering,
            "p99_ms": _spread([summary["p99_ms"] for summary in rendering]),
        }
    return result


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> None:
    """Measure, print and keep the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = run(args.pending, args.samples, args.runs)
    if result is None:
        raise SystemExit(f"needs {BUNDLE} (npm ci && npm run build in clients/js)")
    print(json.dumps(result))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"browser-track-{stamp}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
