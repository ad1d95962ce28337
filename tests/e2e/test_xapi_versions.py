"""Every xAPI answer names a version: XAPI-00331 and Communication 3.3 on the live stack.

A request without a supported `X-Experience-API-Version` is answered 400 in the caller's
tenant's `defaultVersion` (each version's conformance suite expects its own there); answers
the xAPI handlers never see (404, 401) carry the version too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from shared.adapters.settings import Settings
from tests.e2e.xapi_support import statement_for
from tests.support.cli import progressctl
from tests.support.services import TEST_API_KEY, Stack

pytestmark = pytest.mark.e2e

VERSION = "X-Experience-API-Version"


@pytest.fixture(scope="module")
def tenant_1_0_3(settings: Settings) -> tuple[str, str]:
    """A new tenant whose profile answers versionless requests in 1.0.3: its key id and key."""
    tenant = f"v103-{uuid.uuid4().hex[:8]}"
    created = json.loads(progressctl(settings, "tenant", "create", tenant, "--json"))
    profile = '{"defaultVersion": "1.0.3"}'
    shown = json.loads(progressctl(settings, "tenant", "xapi", tenant, "--set", profile))
    assert shown["defaultVersion"] == "1.0.3"
    return created["keyId"], created["apiKey"]


def unversioned(stack: Stack, auth: tuple[str, str]) -> Iterator[httpx.Response]:
    """A GET, a POST and a PUT of the Statement resource, none naming a version."""
    with httpx.Client(base_url=f"{stack.gateway_url}/xapi", auth=auth, timeout=10.0) as lrs:
        yield lrs.get("/statements", params={"statementId": str(uuid.uuid4())})
        yield lrs.post("/statements", json=statement_for("someone"))
        fresh = {"statementId": str(uuid.uuid4())}
        yield lrs.put("/statements", params=fresh, json=statement_for("someone"))


def test_versionless_requests_answer_400_in_the_tenants_default_version(
    stack: Stack, tenant_1_0_3: tuple[str, str]
) -> None:
    """XAPI-00331 (Communication 3.3.s4.b1, 3.3.s3.b7): 400, stamped 1.0.3 for a 1.0.3 tenant."""
    for answer in unversioned(stack, tenant_1_0_3):
        assert answer.status_code == 400
        assert answer.headers[VERSION] == "1.0.3"
        assert answer.json()["error"]["field"] == VERSION


def test_versionless_requests_of_a_default_tenant_answer_in_2_0_0(stack: Stack) -> None:
    """XAPI-00331 under 2.0.0: a tenant without a profile answers in the newest version."""
    for answer in unversioned(stack, ("bootstrap", TEST_API_KEY)):
        assert answer.status_code == 400
        assert answer.headers[VERSION] == "2.0.0"


def test_an_unsupported_version_and_unknown_credentials_still_name_a_version(stack: Stack) -> None:
    """Communication 3.3: a 0.9 request of a 1.0.3 tenant, and a stranger's, both say which."""
    with httpx.Client(base_url=f"{stack.gateway_url}/xapi", timeout=10.0) as lrs:
        stranger = lrs.get("/statements", auth=("nobody", "not-a-key"))
        assert (stranger.status_code, stranger.headers[VERSION]) == (400, "2.0.0")
        refused = lrs.get("/statements", auth=("nobody", "not-a-key"), headers={VERSION: "1.0.1"})
        assert (refused.status_code, refused.headers[VERSION]) == (401, "1.0.3")


def test_answers_outside_the_handlers_carry_the_version(stack: Stack) -> None:
    """Communication 3.3 (every response): a 404 of an unserved path echoes the version."""
    with httpx.Client(base_url=f"{stack.gateway_url}/xapi", timeout=10.0) as lrs:
        missing = lrs.get("/no-such-resource", headers={VERSION: "1.0.3"})
        assert (missing.status_code, missing.headers[VERSION]) == (404, "1.0.3")
        bare = lrs.get("/no-such-resource")
        assert (bare.status_code, bare.headers[VERSION]) == (404, "2.0.0")
