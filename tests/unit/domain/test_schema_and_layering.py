"""The committed JSON Schema is current, and the domain stays pure."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from shared.domain import EVENT_TYPES
from shared.domain.schema_export import SCHEMA_PATH, contract_schema, render

DOMAIN = Path(__file__).resolve().parents[3] / "shared" / "domain"


def test_committed_schema_is_current() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    assert committed == render(), (
        f"{SCHEMA_PATH.name} is stale: run `python -m shared.domain.schema_export` and commit it"
    )


def test_schema_covers_the_ten_types() -> None:
    schema = contract_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["discriminator"]["mapping"]) == set(EVENT_TYPES)
    progressed = schema["$defs"]["ContentProgressed"]
    assert progressed["additionalProperties"] is False
    assert set(progressed["required"]) == {"eventId", "occurredAt", "clientId", "type", "payload"}


def test_domain_imports_only_stdlib_and_pydantic() -> None:
    allowed = set(sys.stdlib_module_names) | {"pydantic", "pydantic_core"}
    for module in DOMAIN.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed, f"{module.name} imports {name}"
                if top == "shared":
                    assert name.startswith("shared.domain"), f"{module.name} imports {name}"
