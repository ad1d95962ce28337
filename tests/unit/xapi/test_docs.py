"""docs/xapi.md's example is what the mapping derives."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.xapi import MappingRules, XapiProfile, derive_events, validate_statement
from shared.xapi.vocabulary import VERB_MEANINGS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "xapi.md"


def test_documented_example_is_derived() -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("### Example", 1)[1]
    statement, event = (
        json.loads(block) for block in re.findall(r"```json\n(.*?)```", example, re.S)[:2]
    )
    derived = derive_events(validate_statement(statement), MappingRules())
    assert derived.user_id == "learner-7"
    assert derived.events == [event]


def test_documented_verbs_are_the_understood_ones() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("### Verbs and results", 1)[1].split("| result |", 1)[0]
    for iri in VERB_MEANINGS:
        assert iri.rsplit("/", 1)[-1] in table, iri


def documented_profiles() -> dict[str, XapiProfile]:
    """Every `<!-- profile: name -->` JSON block of docs/xapi.md, as the CLI would read it."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- profile: ([\w-]+) -->\s*```json\n(.*?)```", text, re.S)
    return {name: XapiProfile.model_validate_json(block) for name, block in blocks}


def test_documented_profiles_are_valid() -> None:
    """XAPI-00331: the documented 1.0.3 profile answers versionless requests in 1.0.3."""
    profiles = documented_profiles()
    assert profiles["version"].default_version == "1.0.3"
