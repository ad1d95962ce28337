"""One causally consistent session for a read-your-writes wait and the read that follows it.

`Progress-Consistent: true` promises that the page served reflects the write. The wait reads
snapshot positions and the log; the page is read after it. Each read alone is majority-read
on the primary, but nothing ties the second to what the first saw: after a failover, or
through a router that reads from another member, the page could come from an older state
than the wait found. Inside `causal_reads()` the reads on that path run in one causally
consistent PyMongo session: each carries the session's `lsid`, and every one after the first
carries `readConcern.afterClusterTime` (the last operation's time), so the server answers
only from a state at least as new as what the wait saw.

The stores find the session through a context variable (`read_session()`), so the ports and
use cases stay free of driver types. It holds for the task that opened the scope only: a task
started inside it (the consistency watcher's poller) inherits the variable but reads outside
the session, since a session must never run two operations at once.

Cost: none per request beyond the reads themselves. PyMongo makes a session's id locally and
pools it; the cluster time rides on the commands already sent. A server that reports no
cluster time (a standalone) gets no `afterClusterTime`: PyMongo sends it only once a reply
carried an `operationTime`; the embedded SecantusDB reports one (it answers as a one-member
replica set), as does every replica set and sharded cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.adapters.mongo import Document

__all__ = ["causal_reads", "read_session"]

_SESSION: ContextVar[tuple[asyncio.Task[Any], AsyncClientSession] | None] = ContextVar(
    "causal_read_session", default=None
)


@asynccontextmanager
async def causal_reads(client: AsyncMongoClient[Document]) -> AsyncIterator[None]:
    """Run this task's store reads (`read_session()`) in one causally consistent session."""
    task = asyncio.current_task()
    assert task is not None, "causal_reads runs inside a task"
    async with client.start_session(causal_consistency=True) as session:
        token = _SESSION.set((task, session))
        try:
            yield
        finally:
            _SESSION.reset(token)


def read_session() -> AsyncClientSession | None:
    """The causal session of the current task's `causal_reads()` scope; None outside one."""
    held = _SESSION.get()
    if held is None or held[0] is not asyncio.current_task():
        return None
    return held[1]
