"""The demo's token route: bounded bodies, JSON only, loopback names only, loopback bind only."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.demo import __main__ as demo_main
from services.demo import app as demo_app
from services.demo.app import create_app
from services.progressctl.stack import demo_url, plan_stack
from shared.adapters import serving
from shared.adapters.embedded import free_port
from shared.adapters.settings import Settings

DEMO = "http://127.0.0.1:8083"


async def trickle() -> AsyncIterator[bytes]:
    yield b'{"userId": '
    await asyncio.sleep(5)
    yield b'"learner-1"}'


def demo_client(base_url: str = DEMO) -> httpx.AsyncClient:
    app = create_app(Settings(http_body_timeout_seconds=0.2))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def test_a_body_that_trickles_in_gets_a_408_within_the_bound() -> None:
    async with demo_client() as client:
        answer = await asyncio.wait_for(
            client.post("/token", content=trickle(), headers={"Content-Type": "application/json"}),
            timeout=3,
        )
    assert answer.status_code == 408
    assert "0.2 s" in answer.json()["detail"]


async def test_a_prompt_body_gets_a_token() -> None:
    async with demo_client() as client:
        answer = await client.post("/token", json={"userId": "learner-1"})
    assert answer.status_code == 200
    assert answer.json()["expiresIn"] == 900


async def test_localhost_is_a_name_of_the_demo_too() -> None:
    async with demo_client("http://localhost:8083") as client:
        answer = await client.post("/token", json={"userId": "learner-1"})
    assert answer.status_code == 200


@pytest.mark.parametrize("host", ["attacker.example:8083", "demo", "10.0.0.5:8083"])
async def test_another_host_name_is_refused_before_any_token_is_signed(host: str) -> None:
    """A page whose name was rebound to 127.0.0.1 (DNS rebinding) sends its own name as Host."""
    async with demo_client() as client:
        answer = await client.post("/token", json={"userId": "learner-1"}, headers={"Host": host})
        page = await client.get("/config.json", headers={"Host": host})
    assert answer.status_code == 400
    assert "token" not in answer.text
    assert page.status_code == 400


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_is_a_415(content_type: str | None) -> None:
    """A cross-site form or `no-cors` fetch can send these without a preflight."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    async with demo_client() as client:
        answer = await client.post("/token", content=b'{"userId": "learner-1"}', headers=headers)
    assert answer.status_code == 415
    assert "application/json" in answer.json()["detail"]


def test_the_demo_binds_loopback_whatever_the_http_host(monkeypatch: pytest.MonkeyPatch) -> None:
    bound: dict[str, Any] = {}
    monkeypatch.setenv("PROGRESS_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("PROGRESS_ENVIRONMENT", "development")
    monkeypatch.setattr(serving, "serve_metrics", lambda settings: None)
    monkeypatch.setattr(serving, "run_server", lambda config, draining: bound.update(vars(config)))
    demo_main.main()
    assert bound["host"] == "127.0.0.1"


async def test_progressctl_run_keeps_the_demo_on_loopback_beside_a_public_gateway() -> None:
    settings = Settings(http_host="0.0.0.0", demo_port=8093, gateway_port=8090)
    servers = {server.name: server for server in plan_stack(settings).services}
    assert servers["gateway"].host == "0.0.0.0"
    assert servers["demo"].host == "127.0.0.1"
    assert demo_url(settings) == "http://127.0.0.1:8093"
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url=demo_url(settings)) as client:
        config = (await client.get("/config.json")).json()
    assert config["gatewayUrl"] == "http://127.0.0.1:8090"


async def test_the_insights_proxy_tells_a_gateway_that_is_down_from_one_that_is_slow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo_app, "_GATEWAY_TIMEOUT_SECONDS", 0.2)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        for port, status, code in (
            (free_port(), 502, "gateway_unavailable"),
            (silent.getsockname()[1], 504, "gateway_timeout"),
        ):
            app = create_app(Settings(gateway_port=port))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=DEMO) as client:
                answer = await client.get("/insights/course-1")
            assert answer.status_code == status
            assert answer.json()["error"]["code"] == code
            assert f"127.0.0.1:{port}" in answer.json()["error"]["message"]
