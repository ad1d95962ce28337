"""The integrator docs keep their promises: every example runs, and no link leaves the repo."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.gateway.event_catalogue import CATALOGUE_PATH, render
from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET, Stack

ROOT = Path(__file__).parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md"))
EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\s*```(\w+)\n(.*?)```", re.DOTALL)
LINK = re.compile(r"\]\(([^)]+)\)")


def examples(language: str) -> list[tuple[str, str]]:
    found = [m.groups() for page in PAGES for m in EXAMPLE.finditer(page.read_text())]
    return [(name, code) for name, lang, code in found if lang == language]


def localised(code: str, stack: Stack) -> str:
    return (
        code.replace("http://127.0.0.1:8080", stack.gateway_url)
        .replace("demo-api-key-change-me", TEST_API_KEY)
        .replace("demo-signing-secret-change-me-please", TEST_SIGNING_SECRET)
    )


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("name", "code"), examples("bash"), ids=lambda v: str(v)[:20])
def test_every_shell_example_runs_against_the_live_stack(
    stack: Stack, name: str, code: str
) -> None:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", localised(code, stack)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{name}: {done.stdout}\n{done.stderr}"


def token_works(stack: Stack, token: str) -> None:
    answer = httpx.get(
        f"{stack.gateway_url}/v1/users/learner-1/progress",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    other = httpx.get(
        f"{stack.gateway_url}/v1/users/learner-2/progress",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert other.status_code == 403


@pytest.mark.e2e
def test_the_python_token_example_mints_a_token_the_gateway_accepts(stack: Stack) -> None:
    (code,) = [c for n, c in examples("python") if n == "token-python"]
    done = subprocess.run(
        [sys.executable, "-c", localised(code, stack)], capture_output=True, text=True, check=True
    )
    token_works(stack, done.stdout.strip())


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_token_example_mints_a_token_the_gateway_accepts(stack: Stack) -> None:
    (code,) = [c for n, c in examples("js") if n == "token-node"]
    done = subprocess.run(
        ["node", "-e", localised(code, stack)], capture_output=True, text=True, check=True
    )
    token_works(stack, done.stdout.strip())


def test_no_link_in_the_docs_or_the_readme_leaves_the_repository() -> None:
    for page in [*PAGES, ROOT / "README.md", *ROOT.glob("clients/*/README.md")]:
        for target in LINK.findall(page.read_text()):
            assert not re.match(r"[a-z]+:", target), f"{page.name} links outside: {target}"
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT), f"{page.name} links outside the repo: {target}"
            assert path.exists(), f"{page.name} links to a missing file: {target}"


def test_the_event_catalogue_is_current() -> None:
    assert CATALOGUE_PATH.read_text() == render(), (
        "docs/events.md is stale: run `python -m services.gateway.event_catalogue`"
    )


@pytest.mark.e2e
def test_the_api_docs_page_loads_nothing_from_outside(stack: Stack) -> None:
    page = httpx.get(f"{stack.gateway_url}/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    sources += re.findall(r"""url: ?['"]([^'"]+)['"]""", page.text)
    assert sources, "the page references no assets"
    for source in sources:
        assert source.startswith("/"), f"/docs loads {source} from outside the gateway"
        assert httpx.get(f"{stack.gateway_url}{source}").status_code == 200, source
