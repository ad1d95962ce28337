"""An ASGI `text/event-stream` response that ends when the client leaves or stops reading.

Starlette's `StreamingResponse` waits for each send as long as it takes: a client that never
reads would hold its stream (and the stream's slot) forever. Here a send that the client's
buffers cannot take within `send_timeout` ends the stream (the buffers, the kernel's and
the server's write buffer, are what bounds its memory), and a client that leaves ends it at
once rather than at the next keep-alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from shared.adapters.logs import get_logger
from shared.adapters.metrics import GATEWAY_STREAMS_CLOSED

__all__ = ["EventStreamResponse"]

log = get_logger(__name__)

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class EventStreamResponse(Response):
    """Send `messages` as an event stream; run `finished` once it ends, however it ends."""

    media_type = "text/event-stream"

    def __init__(
        self,
        messages: AsyncGenerator[bytes],
        send_timeout: float,
        finished: Callable[[], None],
    ) -> None:
        super().__init__()
        self._messages = messages
        self._send_timeout = send_timeout
        self._finished = finished

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream until the messages end, the client leaves, or a send times out."""
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            streaming = asyncio.ensure_future(self._stream(send))
            leaving = asyncio.ensure_future(_client_left(receive))
            await asyncio.wait((streaming, leaving), return_when=asyncio.FIRST_COMPLETED)
            for task in (streaming, leaving):
                task.cancel()
            await asyncio.gather(streaming, leaving, return_exceptions=True)
            if leaving.done() and not leaving.cancelled():
                GATEWAY_STREAMS_CLOSED.labels("disconnected").inc()
        finally:
            await self._messages.aclose()
            self._finished()

    async def _stream(self, send: Send) -> None:
        async for message in self._messages:
            body = {"type": "http.response.body", "body": message, "more_body": True}
            if not await self._sent(send, body):
                return
        await self._sent(send, {"type": "http.response.body", "body": b"", "more_body": False})

    async def _sent(self, send: Send, message: Message) -> bool:
        """Send within the bound; False (logged, counted) for a client that does not read."""
        try:
            await asyncio.wait_for(send(message), self._send_timeout)
        except TimeoutError:
            log.warning("stream_reader_too_slow", send_timeout=self._send_timeout)
            GATEWAY_STREAMS_CLOSED.labels("slow_reader").inc()
            return False
        return True


async def _client_left(receive: Receive) -> None:
    """Return once the client disconnected (a GET has no body to read meanwhile)."""
    while (await receive())["type"] != "http.disconnect":
        pass
