"""A tenant's own actor-to-userId rule on the live stack, set as docs/xapi.md shows.

Issue 18: "the actor becomes the userId (per-tenant rules for account and mbox,
documented)". The documented `sha1-users` profile is applied to a fresh tenant with
`progressctl tenant xapi --set`; an `mbox` and the `mbox_sha1sum` of the same address then
credit one user, whose id is the hash, and an `account` credits no one.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import httpx
import pytest

from shared.adapters.settings import Settings
from tests.e2e.xapi_support import statement_for
from tests.support.cli import progressctl
from tests.support.services import Stack
from tests.support.xapi_docs import documented_profiles

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sha1_tenant(settings: Settings) -> tuple[str, str]:
    """A fresh tenant with the documented `sha1-users` profile: its key id and key."""
    tenant = f"sha1-{uuid.uuid4().hex[:8]}"
    created = json.loads(progressctl(settings, "tenant", "create", tenant, "--json"))
    profile = documented_profiles()["sha1-users"]
    shown = json.loads(progressctl(settings, "tenant", "xapi", tenant, "--set", profile))
    assert shown["users"]["mbox"] == "sha1"
    return created["keyId"], created["apiKey"]


def test_an_mbox_and_its_sha1sum_credit_one_user(
    stack: Stack, sha1_tenant: tuple[str, str]
) -> None:
    """Data 2.4.2.3 under the tenant's `users.mbox: sha1`; `users.account: ignore`."""
    key_id, key = sha1_tenant
    mbox = f"mailto:learner-{uuid.uuid4().hex[:8]}@example.com"
    user = hashlib.sha1(mbox.encode()).hexdigest()
    by_address = {**statement_for("x", "urn:example:lesson-1"), "actor": {"mbox": mbox}}
    by_hash = {**statement_for("x", "urn:example:lesson-2"), "actor": {"mbox_sha1sum": user}}
    by_account = statement_for(user, "urn:example:lesson-3")
    lrs = httpx.Client(
        base_url=f"{stack.gateway_url}/xapi",
        auth=(key_id, key),
        headers={"X-Experience-API-Version": "1.0.3"},
        timeout=10.0,
    )
    with lrs:
        first = lrs.post("/statements", json=by_address)
        second = lrs.post("/statements", json=by_hash)
        ignored = lrs.post("/statements", json=by_account)
        assert [answer.status_code for answer in (first, second, ignored)] == [200] * 3
        assert "Progress-Consistency-Token" not in ignored.headers
        assert lrs.get("/statements", params={"statementId": by_account["id"]}).status_code == 200
    token = second.headers["Progress-Consistency-Token"]
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key}"}
    ) as api:
        read = api.get(f"/v1/users/{user}/progress", params={"waitFor": token, "waitMs": 10_000})
    assert read.headers["Progress-Consistent"] == "true"
    items = read.json()["snapshot"]["items"]
    assert set(items) == {"urn:example:lesson-1", "urn:example:lesson-2"}
