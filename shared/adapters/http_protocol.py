"""uvicorn's HTTP/1.1 protocol with a deadline for a request's head (slow-client protection).

uvicorn bounds only the idle time between requests (`timeout_keep_alive`), and each byte
received resets that timer: a client that sends its request line and headers a byte at a
time holds a connection for ever. This protocol arms a timer when a connection opens and
after each response; if the next request's head has not fully arrived when it fires, the
connection is closed. The body is bounded by the gateway's own ASGI middleware, which can
answer in the API's JSON error shape.
"""

from __future__ import annotations

import asyncio

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from shared.adapters.logs import get_logger

__all__ = ["header_deadline_protocol"]

log = get_logger(__name__)


def header_deadline_protocol(seconds: float) -> type[H11Protocol]:
    """An h11 protocol class, for uvicorn's `http=`, closing heads slower than `seconds`."""

    class HeaderDeadlineProtocol(H11Protocol):
        def __init__(
            self,
            config: Config,
            server_state: ServerState,
            app_state: dict[str, object],
            _loop: asyncio.AbstractEventLoop | None = None,
        ) -> None:
            super().__init__(config, server_state, app_state, _loop)
            self._head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_deadline()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_head_deadline()

        def _arm_head_deadline(self) -> None:
            self._disarm_head_deadline()
            if not self.transport.is_closing():
                self._head_deadline = self.loop.call_later(seconds, self._head_overdue)

        def _disarm_head_deadline(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_overdue(self) -> None:
            self._head_deadline = None
            answering = self.cycle is not None and not self.cycle.response_complete
            if answering or self.transport.is_closing():
                return  # a request is being served: the next response re-arms the deadline
            log.warning("request_head_timeout", seconds=seconds, client=self.client)
            self.transport.close()

    return HeaderDeadlineProtocol
