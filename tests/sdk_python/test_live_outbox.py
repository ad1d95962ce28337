"""The SDK against the live stack: a killed process loses nothing, four processes share a file.

Each check reads the user's log back with `GET ?since=0` and the snapshot's eventCount.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from progress_sync_client import Outbox

from tests.support.services import TEST_API_KEY, Stack, eventually

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]


def tracker(
    stack: Stack, outbox: Path, user: str, prefix: str, **options: Any
) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        "-m",
        "tests.sdk_python.tracker",
        "--url",
        stack.gateway_url,
        "--api-key",
        TEST_API_KEY,
        "--outbox",
        str(outbox),
        "--user",
        user,
        "--prefix",
        prefix,
    ]
    for name, value in options.items():
        argv += [f"--{name}", str(value)]
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def finished(process: subprocess.Popen[str]) -> dict[str, int]:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


def logged_ids(api: httpx.Client, user: str) -> list[str]:
    """Every eventId in the user's log, paging with the cursor (100 at a time)."""
    ids: list[str] = []
    cursor = "0"
    while True:
        page = api.get(f"/v1/users/{user}/progress", params={"since": cursor, "limit": 100}).json()
        ids += [event["eventId"] for event in page["events"]]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return ids


def event_count(api: httpx.Client, user: str) -> int:
    return int(api.get(f"/v1/users/{user}/progress").json()["snapshot"].get("eventCount", 0))


def test_kill_9_with_a_non_empty_outbox_then_restart_delivers_every_event_once(
    stack: Stack, api: httpx.Client, user_id: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.sqlite3"
    count = 400
    first = tracker(stack, outbox, user_id, "kill", count=count, batch=5, lease=2)
    assert first.stdout is not None
    assert json.loads(first.stdout.readline()) == {"tracked": count}
    probe = Outbox(outbox)
    eventually(lambda: True if probe.pending() < count else None, timeout=30, interval=0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    left = probe.pending()
    probe.close()
    assert 0 < left < count, f"the kill came too late or too early: {left} queued"

    report = finished(tracker(stack, outbox, user_id, "restart", count=0))
    assert report["drained"]
    assert report["sent"] >= left

    expected = {f"kill-{i}" for i in range(count)}
    eventually(lambda: True if event_count(api, user_id) == count else None, timeout=60)
    ids = logged_ids(api, user_id)
    assert sorted(ids) == sorted(expected), "every event exactly once in the log"


def test_four_processes_sharing_one_outbox_lose_nothing_and_send_nothing_twice(
    stack: Stack, api: httpx.Client, user_id: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "shared.sqlite3"
    per_process = 150
    processes = [
        tracker(stack, outbox, user_id, f"p{n}", count=per_process, batch=20) for n in range(4)
    ]
    reports = [finished(process) for process in processes]
    total = 4 * per_process
    assert sum(report["sent"] for report in reports) == total, reports
    eventually(lambda: True if event_count(api, user_id) == total else None, timeout=60)
    ids = logged_ids(api, user_id)
    assert len(ids) == total
    assert set(ids) == {f"p{n}-{i}" for n in range(4) for i in range(per_process)}
    left = Outbox(outbox)
    assert left.pending() == 0
    left.close()
