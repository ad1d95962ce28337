"""The README's promises, checked: its curl example works and its settings table is complete."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.adapters.settings import Settings
from tests.support.services import TEST_API_KEY, Stack

README = Path(__file__).parents[2] / "README.md"


def example_block(marker: str) -> str:
    text = README.read_text()
    found = re.search(rf"<!-- example: {marker} -->\s*```bash\n(.*?)```", text, re.DOTALL)
    assert found, f"README has no bash block after <!-- example: {marker} -->"
    return found.group(1)


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_quickstart_curl_example_shows_the_event_in_the_snapshot(stack: Stack) -> None:
    script = example_block("quickstart")
    script = script.replace("http://127.0.0.1:8080", stack.gateway_url)
    script = script.replace("demo-api-key-change-me", TEST_API_KEY)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert '"accepted":1' in done.stdout
    assert '"lesson-1":{"status":"completed"' in done.stdout
    assert '"eventId":"e-1"' in done.stdout


def test_settings_table_lists_every_setting_with_its_default() -> None:
    text = README.read_text()
    for name, field in Settings.model_fields.items():
        variable = f"PROGRESS_{name.upper()}"
        row = re.search(rf"^\| `{variable}` \| `([^`]*)` \|", text, re.MULTILINE)
        assert row, f"README settings table lacks {variable}"
        default = field.default
        if hasattr(default, "get_secret_value"):
            default = default.get_secret_value()
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert row.group(1) == shown, f"{variable}: README says {row.group(1)!r}, code {shown!r}"
