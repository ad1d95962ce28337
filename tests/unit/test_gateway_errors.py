"""The gateway's one error rendering: `ApiError` and outages answer in the JSON error shape."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from services.gateway.errors import ApiError, install_error_handlers
from shared.service_layer.errors import BrokerUnavailable, StoreTimeout

FAILURES: dict[str, Exception] = {
    "broker": BrokerUnavailable("no ack", ["content.progressed", "made.up", "content.progressed"]),
    "store": StoreTimeout("frozen"),
    "api": ApiError(409, "conflict", "taken", field="id", headers={"X-Why": "test"}),
}


def app_raising() -> FastAPI:
    """An app whose routes raise each failure, with the gateway's handlers."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/{kind}")
    async def fail(kind: str) -> None:
        raise FAILURES[kind]

    return app


def unavailable(type_name: str) -> float:
    labels = {"outcome": "unavailable", "type": type_name}
    return REGISTRY.get_sample_value("progress_gateway_events_total", labels) or 0.0


async def answer(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_raising())
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get(path)


async def test_a_broker_outage_anywhere_is_a_503_with_retry_after_counted_per_event() -> None:
    before = (unavailable("content.progressed"), unavailable("unknown"))
    response = await answer("/broker")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "broker_unavailable"
    assert "Resend the whole batch" in response.json()["error"]["message"]
    after = (unavailable("content.progressed"), unavailable("unknown"))
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)


@pytest.mark.parametrize(
    ("path", "status", "body", "header"),
    [
        ("/store", 503, {"code": "store_unavailable"}, ("Retry-After", "5")),
        ("/api", 409, {"code": "conflict", "message": "taken", "field": "id"}, ("X-Why", "test")),
    ],
)
async def test_an_api_error_and_a_store_outage_answer_in_the_one_shape(
    path: str, status: int, body: dict[str, str], header: tuple[str, str]
) -> None:
    response = await answer(path)
    assert response.status_code == status
    assert body.items() <= response.json()["error"].items()
    assert response.headers[header[0]] == header[1]
