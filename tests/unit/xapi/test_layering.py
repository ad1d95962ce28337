"""shared.xapi stays pure: the standard library, pydantic and shared.domain only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

XAPI = Path(__file__).resolve().parents[3] / "shared" / "xapi"


def test_xapi_imports_only_stdlib_pydantic_and_the_domain() -> None:
    allowed = set(sys.stdlib_module_names) | {"pydantic", "pydantic_core"}
    for module in XAPI.glob("*.py"):
        assert len(module.read_text(encoding="utf-8").splitlines()) < 300, module.name
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.startswith("shared."):
                    assert name.startswith("shared.domain"), f"{module.name} imports {name}"
                else:
                    assert name.split(".")[0] in allowed, f"{module.name} imports {name}"
