"""`python -m bench.gateway_floor`: the gateway's floor, the least an ingest gateway can cost.

The smallest ASGI app on the gateway's own server stack (`serve`: uvicorn with the same
protocol, limits and metrics thread) that does the gateway's I/O for
`PUT /v1/users/{userId}/progress`: it reads and parses the body, stamps each event with the
server's fields (`tenantId`, `userId`, `receivedAt`) into the same flat sorted JSON bytes,
and publishes them with the same producer (`kafka_broker`, `send_acknowledged`: acks=all,
the same linger, the same key and headers) before answering 202. No validation, no
authentication, no rate limits, no erasure check: the gateway's CPU per event over this
app's is what those cost.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, cast

from fastapi import FastAPI

from shared.adapters.kafka import event_headers, kafka_broker
from shared.adapters.kafka_publishing import send_acknowledged
from shared.adapters.serving import serve
from shared.adapters.settings import Settings
from shared.adapters.topics import EVENTS_TOPIC
from shared.domain.wire import message_key

__all__ = ["GatewayFloor", "flat", "main"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class GatewayFloor:
    """The ASGI app: every HTTP request is taken as one user's batch of events."""

    def __init__(self, settings: Settings) -> None:
        self._tenant = settings.bootstrap_tenant
        self._broker = kafka_broker(settings, client_id="gateway-floor")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._ingest(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._broker.connect()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._broker.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ingest(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        user = scope["path"].split("/")[3]  # /v1/users/{userId}/progress
        stamp = {
            "tenantId": self._tenant,
            "userId": user,
            "receivedAt": _timestamp(datetime.now(UTC)),
        }
        events = json.loads(b"".join(chunks))["events"]
        key = message_key(self._tenant, user)
        await send_acknowledged(
            self._broker,
            EVENTS_TOPIC,
            ((key, flat({**event, **stamp})) for event in events),
            event_headers(uuid.uuid4().hex),
        )
        answer = json.dumps({"accepted": len(events)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})


def _timestamp(moment: datetime) -> str:
    """A UTC time as the gateway writes it (`2026-12-07T08:19:24.525385Z`)."""
    return moment.isoformat().replace("+00:00", "Z")


def flat(body: dict[str, Any]) -> bytes:
    """The bytes `RecordedEvent.to_json` writes: compact JSON, sorted keys, UTF-8."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def main() -> None:
    """Serve the floor on PROGRESS_GATEWAY_PORT until SIGINT/SIGTERM."""
    serve(
        lambda settings: cast(FastAPI, GatewayFloor(settings)),
        lambda settings: settings.gateway_port,
        graceful_seconds=10,
    )


if __name__ == "__main__":
    main()
