"""Credentials made by `progressctl` are the ones the running gateway honours, per tenant."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.cli import progressctl
from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


def client(stack: Stack, credential: str) -> httpx.Client:
    return httpx.Client(
        base_url=stack.gateway_url,
        headers={"Authorization": f"Bearer {credential}"},
        timeout=10.0,
    )


def completed(event_id: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "clientId": "tenant-test",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-1", "status": "completed"},
    }


def test_user_token_from_progressctl_works_for_its_user_only(stack: Stack, user_id: str) -> None:
    token = progressctl(stack.settings, "token", "--tenant", "demo", "--user", user_id).strip()

    with client(stack, token) as as_user:
        own = as_user.get(f"/v1/users/{user_id}/progress")
        other = as_user.get(f"/v1/users/{user_id}-other/progress")

    assert own.status_code == 200, own.text
    assert own.json()["snapshot"]["userId"] == user_id
    assert other.status_code == 403, other.text


def test_a_created_tenant_sees_only_its_own_users(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    written = api.put(f"/v1/users/{user_id}/progress", json={"events": [completed("e-1")]})
    assert written.status_code == 202, written.text
    eventually(
        lambda: (
            True
            if api.get(f"/v1/users/{user_id}/progress").json()["snapshot"]["eventCount"] == 1
            else None
        )
    )
    tenant = f"iso-{uuid.uuid4().hex[:8]}"
    created = json.loads(progressctl(stack.settings, "tenant", "create", tenant, "--json"))
    token = progressctl(stack.settings, "token", "--tenant", tenant, "--user", user_id).strip()

    for credential in (created["apiKey"], token):
        with client(stack, credential) as other_tenant:
            response = other_tenant.get(f"/v1/users/{user_id}/progress", params={"since": "0"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["snapshot"]["tenantId"] == tenant
        assert body["snapshot"]["eventCount"] == 0
        assert body["snapshot"]["items"] == {}
        assert body["events"] == []


def test_a_rotated_key_is_refused_by_the_gateway(stack: Stack, user_id: str) -> None:
    tenant = f"rot-{uuid.uuid4().hex[:8]}"
    old = json.loads(progressctl(stack.settings, "tenant", "create", tenant, "--json"))
    with client(stack, old["apiKey"]) as before:
        assert before.get(f"/v1/users/{user_id}/progress").status_code == 200

    new = json.loads(progressctl(stack.settings, "tenant", "rotate-key", tenant, "--yes", "--json"))

    with client(stack, new["apiKey"]) as after:
        assert after.get(f"/v1/users/{user_id}/progress").status_code == 200
    with client(stack, old["apiKey"]) as revoked:
        eventually(
            lambda: (
                True if revoked.get(f"/v1/users/{user_id}/progress").status_code == 401 else None
            ),
            timeout=stack.settings.auth_cache_seconds + 5,
            interval=0.5,
        )
