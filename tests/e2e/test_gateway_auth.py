"""Who may do what: every refusal is the right 401/403, and nothing is published for it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings
from shared.adapters.tenants import mongo_tenants
from shared.domain.tenants import hash_api_key
from tests.support.kafka_probe import topic_size
from tests.support.services import TEST_SIGNING_SECRET, Stack, eventually

pytestmark = pytest.mark.e2e

OTHER_TENANT = "acme"
OTHER_KEY = "acme-api-key-0123456789"
OTHER_SECRET = "acme-signing-secret-0123456789-abcdef"
READ_ONLY_KEY = "demo-read-only-key-0123456789"


async def _provision(settings: Settings) -> None:
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        await mongo_tenants(db).reset_credentials(OTHER_TENANT, OTHER_KEY, OTHER_SECRET)
        await db["tenants"].update_one(
            {"_id": "demo"},
            {"$pull": {"apiKeys": {"id": "read-only"}}},
        )
        await db["tenants"].update_one(
            {"_id": "demo"},
            {
                "$push": {
                    "apiKeys": {
                        "id": "read-only",
                        "hash": hash_api_key(READ_ONLY_KEY),
                        "scopes": ["read"],
                    }
                }
            },
        )
    finally:
        await client.close()


@pytest.fixture(scope="module")
def tenants(stack: Stack) -> None:
    asyncio.run(_provision(stack.settings))


def token(
    user: str,
    *,
    tenant: str = "demo",
    secret: str = TEST_SIGNING_SECRET,
    ttl: int = 300,
    age: int = 0,
    iat: bool = True,
) -> str:
    issued = int(time.time()) - age
    claims: dict[str, Any] = {"sub": user, "tid": tenant, "exp": issued + ttl}
    if iat:
        claims["iat"] = issued
    return jwt.encode(claims, secret, algorithm="HS256")


def event(event_id: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "clientId": "auth-test",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-1", "status": "completed"},
    }


REFUSALS = [
    ("no token", None, "put", 401),
    ("not bearer", "Basic dXNlcjpwdw==", "put", 401),
    ("unknown key", "Bearer not-a-key", "put", 401),
    ("key without write scope", f"Bearer {READ_ONLY_KEY}", "put", 403),
    ("forged token", "forged", "put", 401),
    ("expired token", "expired", "put", 401),
    ("token of another tenant's secret", "other-secret", "put", 401),
    ("token without exp", "no-exp", "put", 401),
    ("token without iat", "no-iat", "put", 401),
    ("token living past the maximum", "too-long", "put", 401),
    ("token naming an invalid tenant id", "bad-tid", "put", 401),
    ("user token on another user", "other-user", "put", 403),
    ("user token on the bulk endpoint", "self", "bulk", 403),
]

EXPECTED_MESSAGE = {
    "token without iat": "lacks the 'iat' claim",
    "token without exp": "lacks the 'exp' claim",
    "token living past the maximum": "at most 86400s",
    "token naming an invalid tenant id": "'tid' is not a valid tenant id",
}


def credential(kind: str | None, user: str) -> str | None:
    tokens = {
        "forged": token(user, secret="not-the-secret-0123456789-abcdefgh"),
        "expired": token(user, ttl=-60),
        "other-secret": token(user, secret=OTHER_SECRET),
        "no-exp": jwt.encode({"sub": user, "tid": "demo"}, TEST_SIGNING_SECRET, algorithm="HS256"),
        "no-iat": token(user, iat=False),
        "too-long": token(user, ttl=86_400 + 60, age=30),
        "bad-tid": token(user, tenant="Not A Tenant!"),
        "other-user": token("someone-else"),
        "self": token(user),
    }
    if kind in tokens:
        return f"Bearer {tokens[kind]}"
    return kind


@pytest.mark.parametrize(
    ("case", "auth", "endpoint", "status"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refused_writes_publish_nothing(
    stack: Stack,
    tenants: None,
    user_id: str,
    case: str,
    auth: str | None,
    endpoint: str,
    status: int,
) -> None:
    headers = {} if auth is None else {"Authorization": credential(auth, user_id) or ""}
    before = topic_size(stack.settings)
    if endpoint == "bulk":
        body = {"events": [{**event("e-1"), "userId": user_id}]}
        response = httpx.post(f"{stack.gateway_url}/v1/events", json=body, headers=headers)
    else:
        body = {"events": [event("e-1")]}
        response = httpx.put(
            f"{stack.gateway_url}/v1/users/{user_id}/progress", json=body, headers=headers
        )
    assert response.status_code == status, f"{case}: {response.text}"
    expected_code = "expired" if case == "expired token" else "unauthorized"
    assert response.json()["error"]["code"] == (expected_code if status == 401 else "forbidden")
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert EXPECTED_MESSAGE.get(case, "") in response.json()["error"]["message"]
    assert topic_size(stack.settings) == before


def test_user_token_reads_and_writes_its_own_user(
    stack: Stack, tenants: None, user_id: str
) -> None:
    headers = {"Authorization": f"Bearer {token(user_id)}"}
    url = f"{stack.gateway_url}/v1/users/{user_id}/progress"
    assert httpx.put(url, json={"events": [event("own-1")]}, headers=headers).status_code == 202

    def projected() -> dict[str, Any] | None:
        body: dict[str, Any] = httpx.get(url, headers=headers).json()
        return body if body["snapshot"]["eventCount"] == 1 else None

    body = eventually(projected)
    assert body["snapshot"]["userId"] == user_id
    assert (
        httpx.get(f"{stack.gateway_url}/v1/users/other/progress", headers=headers).status_code
        == 403
    )


def test_read_only_key_reads_but_cannot_reset(stack: Stack, tenants: None, user_id: str) -> None:
    headers = {"Authorization": f"Bearer {READ_ONLY_KEY}"}
    url = f"{stack.gateway_url}/v1/users/{user_id}/progress"
    assert httpx.get(url, headers=headers).status_code == 200
    assert httpx.delete(url, headers=headers).status_code == 403


def test_another_tenant_can_neither_read_nor_write_the_first_tenants_users(
    stack: Stack, tenants: None, api: httpx.Client, user_id: str
) -> None:
    url = f"/v1/users/{user_id}/progress"
    assert api.put(url, json={"events": [event("demo-1")]}).status_code == 202
    eventually(lambda: True if api.get(url).json()["snapshot"]["eventCount"] == 1 else None)

    other = {"Authorization": f"Bearer {OTHER_KEY}"}
    seen = httpx.get(f"{stack.gateway_url}{url}", params={"since": "0"}, headers=other).json()
    assert seen["snapshot"]["tenantId"] == OTHER_TENANT
    assert seen["snapshot"]["items"] == {}
    assert seen["events"] == []

    written = httpx.put(
        f"{stack.gateway_url}{url}",
        json={"events": [{**event("acme-1"), "payload": {"contentId": "x", "status": "passed"}}]},
        headers=other,
    )
    assert written.status_code == 202
    eventually(
        lambda: (
            True
            if httpx.get(f"{stack.gateway_url}{url}", headers=other).json()["snapshot"][
                "eventCount"
            ]
            == 1
            else None
        )
    )
    mine = api.get(url, params={"since": "0"}).json()
    assert [e["eventId"] for e in mine["events"]] == ["demo-1"]
    assert "x" not in mine["snapshot"]["items"]
