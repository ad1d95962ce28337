"""The tenant profiles docs/xapi.md shows, read as `progressctl tenant xapi --set` reads them."""

from __future__ import annotations

import re
from pathlib import Path

from shared.xapi import XapiProfile

__all__ = ["DOCS", "documented_profile", "documented_profiles"]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "xapi.md"
_PROFILE = re.compile(r"<!-- profile: ([\w-]+) -->\s*```json\n(.*?)```", re.S)


def documented_profiles() -> dict[str, str]:
    """Every `<!-- profile: name -->` JSON block of docs/xapi.md, by name, as written."""
    return dict(_PROFILE.findall(DOCS.read_text(encoding="utf-8")))


def documented_profile(name: str) -> XapiProfile:
    """One documented profile, validated as the CLI validates it."""
    return XapiProfile.model_validate_json(documented_profiles()[name])
