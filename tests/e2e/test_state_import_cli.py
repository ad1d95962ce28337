"""`progressctl import FILE`: saved states from NDJSON, each rejection named by its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.service_layer.ingest import Ingest
from tests.e2e.test_guest_merge import counted, quiz_state
from tests.e2e.test_operations_cli import cli
from tests.support.services import Stack

pytestmark = pytest.mark.e2e


def test_an_ndjson_import_reports_each_bad_line_and_resumes(
    stack: Stack, api: httpx.Client, user_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        {"userId": f"{user_id}-a", "state": {"items": {"ch-1": {"status": "completed"}}}},
        {"userId": f"{user_id}-b", "state": {"items": {"ch-1": {"status": "finished"}}}},
        {"userId": f"{user_id}-c", "state": {"activePathId": "p1"}, "asOf": "2026-11-01T00:00:00Z"},
    ]
    path = tmp_path / "states.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")

    first = cli(stack.settings, monkeypatch, "import", str(path), "--tenant", "demo", "--json")

    assert first.exit_code == 1
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["lines"] == 4
    assert [problem.split(":")[0] for problem in summary["problems"]] == ["line 2", "line 4"]
    assert "state.items.ch-1.status" in summary["problems"][0]
    assert counted(api, f"{user_id}-a", 1)["snapshot"]["items"]["ch-1"]["status"] == "completed"
    assert counted(api, f"{user_id}-c", 1)["snapshot"]["activePathId"] == "p1"

    again = cli(stack.settings, monkeypatch, "import", str(path), "--tenant", "demo", "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout.strip().splitlines()[-1])["problems"] == []


def test_a_large_state_is_imported_in_parts_the_gateway_would_take(
    stack: Stack, api: httpx.Client, user_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """606 derived events go out as parts of at most PROGRESS_MAX_EVENTS_PER_REQUEST (500)."""
    path = tmp_path / "large.ndjson"
    path.write_text(json.dumps({"userId": user_id, "state": quiz_state(6)}) + "\n")
    parts: list[int] = []
    submit = Ingest.submit

    async def counted_submit(self: Ingest, tenant: str, submissions: Any, **options: Any) -> Any:
        parts.append(len(submissions))
        return await submit(self, tenant, submissions, **options)

    monkeypatch.setattr(Ingest, "submit", counted_submit)
    result = cli(stack.settings, monkeypatch, "import", str(path), "--tenant", "demo", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["events"] == 606
    assert parts == [500, 106]
    assert counted(api, user_id, 606)["snapshot"]["items"]["q-5"]["quiz"]["attempts"] == 100
