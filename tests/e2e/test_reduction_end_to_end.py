"""Whatever order and however often events arrive, the served snapshot is `reduce` of the log."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain import RecordedEvent, reduce
from tests.support.services import eventually
from tests.unit.domain.strategies import logs

pytestmark = pytest.mark.e2e

SERVER_FIELDS = ("tenantId", "userId", "receivedAt")


def client_part(event: RecordedEvent) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(event.to_json())
    for name in SERVER_FIELDS:
        body.pop(name)
    return body


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(log=logs(min_size=40, max_size=80, tag="e2e"), seed=st.integers(0, 2**16))
def test_shuffled_log_with_repeats_reduces_to_the_served_snapshot(
    api: httpx.Client, log: list[RecordedEvent], seed: int
) -> None:
    user_id = f"prop-{uuid.uuid4().hex[:10]}"
    rng = random.Random(seed)
    sent = [client_part(event) for event in log]
    sent += rng.sample(sent, len(sent) // 5)
    rng.shuffle(sent)
    while sent:
        size = rng.randint(1, 25)
        chunk, sent = sent[:size], sent[size:]
        response = api.put(f"/v1/users/{user_id}/progress", json={"events": chunk})
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == 0, response.text

    distinct = len({event.event_id for event in log})

    def served() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/v1/users/{user_id}/progress").json()
        return body if body["snapshot"]["eventCount"] >= distinct else None

    expected = reduce(log, tenant_id="demo", user_id=user_id).to_api()
    assert eventually(served, timeout=30)["snapshot"] == expected
