"""Standing rule: every collection that holds a user id joins erasure.

A new collection must either be listed in `USER_DATA` (erase deletes from it) or here, with
the reason it holds no user id; the test fails until one of the two is done. A collection
the code names by a string of its own instead of a constant of `shared.adapters.mongo`
would slip past that check, so the code may name none that way.
"""

from __future__ import annotations

import re
from pathlib import Path

from shared.adapters import mongo
from shared.adapters.user_data_store import USER_DATA

HOLD_NO_USER_ID = {
    mongo.TENANTS: "tenants, keys (hashed) and secrets",
    mongo.CATALOG: "course definitions",
    mongo.AUDIT: "tenant, time and counts only",
    mongo.TOMBSTONES: "a keyed hash of the user id, never the id",
    mongo.REBUILD_RUNS: "erase deletes a run paused at the user (see MongoUserDataStore.erase)",
    mongo.CATALOG_JOBS: "erase clears a job checkpoint at the user (MongoUserDataStore.erase)",
    mongo.IMPORT_RUNS: "file hash and line number",
    mongo.ISSUERS: "a tenant's trusted identity providers: issuer, audiences, key source",
    mongo.INSIGHT_TOTALS: "sums per tenant, course and count; erase subtracts the user's share",
    mongo.JOURNAL: "one counter of journal flushes",
}


def test_every_collection_is_erased_or_holds_no_user_id() -> None:
    collections = {
        value
        for name, value in vars(mongo).items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    }
    unaccounted = collections - set(USER_DATA) - set(HOLD_NO_USER_ID)
    assert not unaccounted, f"add to USER_DATA or HOLD_NO_USER_ID: {sorted(unaccounted)}"


REPO = Path(__file__).resolve().parents[2]
COLLECTION_BY_LITERAL = re.compile(
    r"""(?:\bdb|_db|database)\s*\[\s*f?["']|get_collection\(\s*f?["']"""
)


def test_code_names_collections_only_by_the_constants_of_the_mongo_module() -> None:
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("shared", "services", "tools", "chaos")
        for path in sorted((REPO / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if COLLECTION_BY_LITERAL.search(line)
    ]
    assert not found, f"name the collection by a constant of shared/adapters/mongo.py: {found}"
