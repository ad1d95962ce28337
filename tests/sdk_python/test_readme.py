"""Every example in clients/python/README.md runs against the live stack.

Python blocks run in order in a scratch folder, with the gateway's address and credentials
in the environment as the README says. Blocks marked `<!-- example: server-helpers -->` call
the merge and import routes; until the gateway has them (the integration contract's
additions) those answer 404 and the test says so as an expected failure.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET, Stack, eventually

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"
_BLOCK = re.compile(
    r"(<!-- example: (?P<tag>[\w-]+) -->\n)?```(?P<lang>\w+)\n(?P<code>.*?)```", re.S
)


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    tag: str | None
    line: int


def blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(m["lang"], m["code"], m["tag"], text[: m.start("code")].count("\n") + 1)
        for m in _BLOCK.finditer(text)
    ]


@pytest.fixture
def readme_env(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROGRESS_SYNC_URL", stack.gateway_url)
    monkeypatch.setenv("PROGRESS_SYNC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("PROGRESS_SYNC_SIGNING_SECRET", TEST_SIGNING_SECRET)
    return tmp_path


def run_python(block: Block) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(block.code, f"{README}:{block.line}", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def test_readme_python_examples_run(readme_env: Path, api: httpx.Client) -> None:
    printed = [run_python(b) for b in blocks() if b.lang == "python" and b.tag is None]
    assert len(printed) == 3
    assert "drained: True still queued: 0" in printed[0]
    assert "quiz.attempted" in printed[1]
    assert "payload.contentId" in printed[2]

    def stored() -> int | None:
        count = api.get("/v1/users/learner-42/progress").json()["snapshot"].get("eventCount")
        return count if count == 3 else None

    eventually(stored, timeout=30)

    def quiz_passed() -> bool | None:
        items = api.get("/v1/users/learner-7/progress").json()["snapshot"].get("items", {})
        return True if items.get("quiz-1", {}).get("status") == "passed" else None

    eventually(quiz_passed, timeout=30)


def test_readme_backend_helper_examples_run(readme_env: Path) -> None:
    helpers = [b for b in blocks() if b.tag == "server-helpers"]
    assert [b.lang for b in helpers] == ["python", "bash"]
    run_python(helpers[0])
    (readme_env / "legacy-progress.ndjson").write_text(
        json.dumps({"userId": "legacy-1", "state": {"items": {"a": {"status": "completed"}}}})
        + "\n"
    )
    command = helpers[1].code.split()
    command[0] = str(Path(sys.executable).parent / command[0])
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_readme_live_example_prints_the_users_changes(readme_env: Path, api: httpx.Client) -> None:
    (live,) = [b for b in blocks() if b.tag == "live"]
    event = {
        "eventId": "readme-live-1",
        "occurredAt": "2026-11-20T10:00:00Z",
        "clientId": "readme",
        "type": "quiz.attempted",
        "payload": {"contentId": "quiz-1", "score": 8, "maxScore": 10, "passed": True},
    }
    assert api.put("/v1/users/learner-7/progress", json={"events": [event]}).status_code == 202

    def projected() -> bool | None:
        page = api.get("/v1/users/learner-7/progress", params={"since": 0}).json()
        return True if any(e["eventId"] == "readme-live-1" for e in page["events"]) else None

    eventually(projected, timeout=30)  # the example prints the first change only
    printed = run_python(live)
    assert "live: quiz.attempted readme-live-1" in printed
    assert "resume from " in printed
