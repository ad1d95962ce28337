"""The demo's token route bounds how long a body may take, not only how big it is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from services.demo.app import create_app
from shared.adapters.settings import Settings


async def trickle() -> AsyncIterator[bytes]:
    yield b'{"userId": '
    await asyncio.sleep(5)
    yield b'"learner-1"}'


async def test_a_body_that_trickles_in_gets_a_408_within_the_bound() -> None:
    app = create_app(Settings(http_body_timeout_seconds=0.2))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        answer = await asyncio.wait_for(client.post("/token", content=trickle()), timeout=3)
    assert answer.status_code == 408
    assert "0.2 s" in answer.json()["detail"]


async def test_a_prompt_body_gets_a_token() -> None:
    app = create_app(Settings(http_body_timeout_seconds=0.2))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        answer = await client.post("/token", json={"userId": "learner-1"})
    assert answer.status_code == 200
    assert answer.json()["expiresIn"] == 900
