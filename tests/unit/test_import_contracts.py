"""pyproject's import contracts fail on a stray import: checked on a graph with one planted.

The graph is built by hand (what grimp builds from the tree, in miniature), so each test
plants exactly the import it means and reads the verdict of the contract as configured.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from grimp import ImportGraph
from importlinter import Contract
from importlinter.configuration import configure
from importlinter.contracts.forbidden import ForbiddenContract

from tools.import_contracts import AllowListContract

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CONFIG: dict[str, Any] = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
KINDS: dict[str, type[Contract]] = {"allowlist": AllowListContract, "forbidden": ForbiddenContract}
configure()  # import-linter's settings (its timer), as `lint-imports` sets them


def configured(name_start: str) -> Contract:
    """The contract of pyproject.toml whose name starts so, with the session's options."""
    [found] = [c for c in CONFIG["contracts"] if c["name"].startswith(name_start)]
    options = {k: v for k, v in found.items() if k not in ("name", "type")}
    session = {k: v for k, v in CONFIG.items() if k != "contracts"}
    return KINDS[found["type"]](found["name"], session, options)


def project_graph(*planted: tuple[str, str]) -> ImportGraph:
    """The modules the contracts name, importing what they may, plus the `planted` imports."""
    graph = ImportGraph()
    for package in ("shared", "chaos", "bench", "tests"):
        graph.add_module(package)
    internal = ["shared.domain", "shared.domain.events", "shared.xapi", "shared.xapi.mapping"]
    internal += ["shared.service_layer", "shared.service_layer.ingest", "chaos.fuzz"]
    internal += ["bench.common", "tests.support", "tests.support.services", "tests.fakes"]
    internal += [f"tests.{suite}" for suite in ("browser", "contract", "e2e", "integration")]
    internal += ["tests.sdk_python", "tests.unit", "tests.conftest", "tests.golden_vectors"]
    for module in internal:
        graph.add_module(module)
    for external in ("pydantic", "datetime", "structlog", "bson", "requests", "typer"):
        graph.add_module(external, is_squashed=True)
    allowed = [
        ("shared.domain.events", "pydantic"),
        ("shared.domain.events", "datetime"),
        ("shared.xapi.mapping", "shared.domain.events"),
        ("shared.service_layer.ingest", "structlog"),
        ("chaos.fuzz", "tests.support.services"),
        ("bench.common", "tests.fakes"),
    ]
    for importer, imported in [*allowed, *planted]:
        graph.add_import(importer=importer, imported=imported, line_number=7, line_contents="")
    return graph


@pytest.mark.parametrize(
    ("contract", "stray"),
    [
        ("The domain imports only", ("shared.domain.events", "requests")),
        ("The domain imports only", ("shared.domain.events", "structlog")),
        ("The xAPI rules import only", ("shared.xapi.mapping", "shared.service_layer.ingest")),
        ("The domain and the use cases touch no", ("shared.service_layer.ingest", "bson")),
        ("The domain and the use cases touch no", ("shared.service_layer.ingest", "typer")),
        ("Chaos and bench", ("chaos.fuzz", "tests.unit")),
        ("Chaos and bench", ("bench.common", "tests.conftest")),
    ],
)
def test_a_contract_is_kept_until_a_stray_import_is_planted(
    contract: str, stray: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert configured(contract).check(project_graph(), verbose=False).kept
    broken = configured(contract).check(project_graph(stray), verbose=False)
    assert not broken.kept
    configured(contract).render_broken_contract(broken)
    assert stray[0] in capsys.readouterr().out
