"""`make test-real` and the testcontainers backend say why they skip when Docker is absent.

DOCKER_HOST names a socket that does not exist, so these hold whether or not the machine
running them has a Docker engine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.backends import container_backend, private_backend

REPO = Path(__file__).resolve().parents[2]
NO_ENGINE = "unix:///nonexistent/progress-sync-test/docker.sock"


def test_make_test_real_skips_saying_no_docker_engine_answers() -> None:
    environment = {**os.environ, "DOCKER_HOST": NO_ENGINE}
    environment.pop("MAKEFLAGS", None)
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "test-real"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, f"the suite ran anyway: {done.stdout[-500:]}"
    assert lines[0].startswith("make test-real: skipped: no Docker engine answers ("), lines[0]


def test_the_testcontainers_backend_skips_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    with (
        pytest.raises(pytest.skip.Exception, match="testcontainers: no Docker engine answers"),
        container_backend(),
    ):
        pytest.fail("containers started without a Docker engine")


def test_fault_suites_skip_on_servers_the_tests_do_not_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROGRESS_TEST_BACKEND", "external")
    with (
        pytest.raises(pytest.skip.Exception, match="cannot freeze its servers"),
        private_backend(tmp_path),
    ):
        pytest.fail("an external backend was handed to a destructive suite")
