"""README.md's layout section names only paths that exist, so a newcomer is never sent astray."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_QUOTED = re.compile(r"`([^`\s]+)`")
_LISTED = re.compile(r"^(\S+/)\s", re.MULTILINE)


def layout_section(readme: str) -> str:
    """The text of `## Layout`, up to the next second-level heading."""
    after = readme.split("\n## Layout\n", 1)[1]
    return re.split(r"\n## ", after, maxsplit=1)[0]


def named_paths(section: str) -> set[str]:
    """Every repository path the section names: quoted ones and the tree's first column."""
    quoted = {name for name in _QUOTED.findall(section) if "/" in name or "." in name}
    paths = {name.split("(", 1)[0].rstrip(".,:") for name in quoted}
    paths = {path for path in paths if re.search(r"/|\.(py|ts|json|md|toml|mjs)$", path)}
    return paths | set(_LISTED.findall(section))


def test_every_path_the_layout_names_exists() -> None:
    section = layout_section((ROOT / "README.md").read_text(encoding="utf-8"))
    paths = named_paths(section)
    assert {
        "shared/domain/fold.py",
        "shared/xapi/vocabulary.py",
        "shared/adapters/metrics.py",
        "clients/python/src/progress_sync_client/policy.py",
        "clients/js/src/policy.ts",
        "clients/golden/policy-vectors.json",
    } <= paths
    missing = sorted(path for path in paths if not (ROOT / path).exists())
    assert not missing, f"README.md's layout names paths that do not exist: {missing}"


def test_a_path_that_does_not_exist_is_caught() -> None:
    section = "see `shared/domain/no_such_rule.py` and `clients/js/src/policy.ts`\n"
    missing = [path for path in named_paths(section) if not (ROOT / path).exists()]
    assert missing == ["shared/domain/no_such_rule.py"]
