"""One grep follows an event: the request id is in the gateway's and the projector's logs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.support.services import Stack, eventually

pytestmark = pytest.mark.e2e


def lines_with(stack: Stack, name: str, needle: str) -> list[dict[str, object]]:
    process = {"gateway": stack.gateway, "projector": stack.projector}[name]
    text = process.log_path.read_text(errors="replace")
    return [
        json.loads(line) for line in text.splitlines() if needle in line and line.startswith("{")
    ]


def test_request_id_travels_from_gateway_to_projector_logs(
    stack: Stack, api: httpx.Client, user_id: str
) -> None:
    request_id = f"journey-{uuid.uuid4().hex}"
    event = {
        "eventId": "journey-1",
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": "journey",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-1", "status": "completed"},
    }
    response = api.put(
        f"/v1/users/{user_id}/progress",
        json={"events": [event]},
        headers={"X-Request-ID": request_id},
    )
    assert response.headers["X-Request-ID"] == request_id
    written = eventually(lambda: lines_with(stack, "gateway", request_id) or None)
    assert written[0]["event"] == "events_written"
    assert written[0]["accepted"] == ["journey-1"]
    projected = eventually(lambda: lines_with(stack, "projector", request_id) or None)
    assert projected[0]["event"] == "records_projected"
    assert request_id in projected[0]["request_ids"]  # type: ignore[operator]
