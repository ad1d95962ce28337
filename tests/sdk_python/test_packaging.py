"""`pip install clients/python` into a bare venv: the client and its contract, nothing else.

No server dependency is installed, no top-level `shared` package appears, and the contract
inside the wheel is the repository's `shared/domain` (the same files, not a copy to keep).
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL = "python -m pip install ./clients/python"


def test_the_readme_install_line_gives_the_client_and_its_contract_only(tmp_path: Path) -> None:
    assert INSTALL in (REPO_ROOT / "clients" / "python" / "README.md").read_text()
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    command = [str(python), *INSTALL.split()[1:], "--quiet", "--disable-pip-version-check"]
    subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True, timeout=300)
    probe = (
        "import importlib.util as u, json, progress_sync_client.contract as c;"
        "print(json.dumps({'shared': u.find_spec('shared') is not None,"
        " 'fastapi': u.find_spec('fastapi') is not None, 'contract': c.__file__}))"
    )
    found = subprocess.run(
        [str(python), "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True
    )
    import json

    facts = json.loads(found.stdout)
    assert facts["shared"] is False
    assert facts["fastapi"] is False
    installed = Path(facts["contract"]).parent
    for source in (REPO_ROOT / "shared" / "domain").glob("*.py"):
        assert (installed / source.name).read_text() == source.read_text(), source.name
    assert sys.version_info >= (3, 11)
