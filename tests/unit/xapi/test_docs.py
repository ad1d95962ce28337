"""docs/xapi.md's example is what the mapping derives."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.xapi import MappingRules, derive_events, validate_statement
from shared.xapi.vocabulary import VERB_MEANINGS
from tests.support.xapi_docs import documented_profile, documented_profiles

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


def test_documented_profiles_are_valid() -> None:
    """Each profile docs/xapi.md shows validates and means what the text says."""
    assert set(documented_profiles()) == {"version", "sha1-users"}
    assert documented_profile("version").default_version == "1.0.3"
    users = documented_profile("sha1-users").users
    assert (users.mbox, users.account) == ("sha1", "ignore")
