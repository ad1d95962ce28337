"""The JS SDK in plain Node against a real stack: the README's Node quick start, as written.

It loads the built core from a working directory of its own, keeps its outbox in a file
there (no IndexedDB, no localStorage) and syncs through the gateway.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.browser.conftest import server_events, user_token
from tests.support.browser import BUNDLE, SDK_DIR
from tests.support.services import Stack

pytestmark = pytest.mark.e2e

EXAMPLE = re.compile(r"<!-- example: node-quickstart -->\s*```js\n(.*?)```", re.DOTALL)


def test_the_sdk_readme_node_example_runs_in_node(browser_stack: Stack, tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    match = EXAMPLE.search((SDK_DIR / "README.md").read_text())
    assert match, "clients/js/README.md lost its node-quickstart example"
    user = f"node-{uuid.uuid4().hex[:10]}"
    shutil.copy(BUNDLE, tmp_path / "progress-sync.js")
    shutil.copy(BUNDLE.parent / "file-outbox.js", tmp_path / "file-outbox.js")
    code = match.group(1).replace("http://127.0.0.1:8080", browser_stack.gateway_url)
    (tmp_path / "example.mjs").write_text(code.replace("learner-42", user))
    answer = subprocess.run(
        ["node", "example.mjs"],
        cwd=tmp_path,
        env={**os.environ, "PROGRESS_USER_TOKEN": user_token(user)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "completed"
    assert [e["payload"]["contentId"] for e in server_events(browser_stack.gateway_url, user)] == [
        "lesson-1"
    ]
    assert (tmp_path / ".progress-sync" / "default.outbox.jsonl").exists()
