"""The SDK's calls against the live stack: a course-scoped reset, and the import command.

The reset is tracked as the builder makes it (only a courseId: the gateway fills in the
course's items from its catalog); the import runs without the `cli` extra's progress bar.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from progress_sync_client import AsyncProgressClient
from progress_sync_client.cli import main

from tests.support.services import TEST_API_KEY, Stack

pytestmark = pytest.mark.e2e


async def test_a_course_reset_clears_only_that_courses_items(
    stack: Stack, api: httpx.Client, tmp_path: Path
) -> None:
    course, user = f"course-{uuid.uuid4().hex[:8]}", f"learner-{uuid.uuid4().hex[:8]}"
    items = [{"contentId": f"{course}.{name}", "kind": "chapter"} for name in ("a", "b")]
    catalog = {"title": "T", "items": items}
    created = await asyncio.to_thread(api.put, f"/v1/catalog/courses/{course}", json=catalog)
    assert created.status_code in (200, 201), created.text
    async with AsyncProgressClient(
        stack.gateway_url, api_key=TEST_API_KEY, outbox=tmp_path / "outbox.sqlite3"
    ) as client:
        done = [client.events.content_progressed(i["contentId"], "completed") for i in items]
        other = client.events.content_progressed("elsewhere", "completed")
        await client.track(user, *done, other)
        assert (await client.flush(timeout=10)).queued == 0
        reset = client.events.progress_reset(course_id=course, event_id=f"reset-{course}")
        await client.track(user, reset)
        report = await client.flush(timeout=10)
        assert report.queued == 0
        assert report.status.dropped == 0
        token = client.consistency_token(user)
        progress = await client.get_progress(user, wait_for=token, wait_ms=5000)
        view = await client.course(user, course, wait_for=token)
    assert progress.consistent is True
    assert set(progress.snapshot.items) == {"elsewhere"}
    assert view.completed == 0


def test_import_runs_without_the_cli_extra(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.progress", None)
    user = f"legacy-{uuid.uuid4().hex[:8]}"
    lines = [
        {"userId": user, "state": {"items": {"a": {"status": "completed"}}}},
        {"userId": "bad user", "state": {"items": {}}},
    ]
    source = tmp_path / "legacy.ndjson"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    status = main(["import", str(source), "--url", stack.gateway_url, "--api-key", TEST_API_KEY])
    printed = capsys.readouterr().err
    assert status == 1
    assert "line 2 (bad user): HTTP 4" in printed
    assert "imported 1 of 2 users" in printed
