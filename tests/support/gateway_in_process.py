"""The production gateway app, in process, over the fakes of `tests.fakes`: no broker, no DB.

`InProcessGateway` builds the gateway's context with `build_context` from `GatewayPorts`
filled with fakes and serves `create_app`'s routes over `httpx.ASGITransport`, so auth,
resets, erasure and error shapes are checked in milliseconds. The fakes stay reachable
(`gateway.ports`) to seed state and to see what was published.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import jwt

from services.gateway.app import create_app
from services.gateway.context import GatewayContext, GatewayPorts, build_context
from shared.adapters.issuers import MongoIssuerStore
from shared.adapters.settings import Settings
from shared.domain.tenants import bootstrap_record
from tests.fakes import (
    FixedClock,
    InMemoryCatalogJobStore,
    InMemoryCatalogStore,
    InMemoryCertificateStore,
    InMemoryDeadLetterStore,
    InMemoryDocumentStore,
    InMemoryEventLog,
    InMemoryInsightStore,
    InMemoryMergePointers,
    InMemoryPublisher,
    InMemorySnapshotStore,
    InMemoryStatementStore,
    InMemoryTenantStore,
    InMemoryTombstoneStore,
    InMemoryUsageStore,
    InMemoryWrittenEvents,
)

TENANT = "demo"
API_KEY = "in-process-api-key-0123456789"
SIGNING_SECRET = "in-process-signing-secret-0123456789-abcdef"


class NoIssuers:
    """No tenant trusts an outside identity provider."""

    async def named(self, issuer: str) -> list[Any]:
        return []


async def _ready() -> bool:
    return True


@asynccontextmanager
async def _no_session() -> AsyncIterator[None]:
    yield


def fake_ports() -> GatewayPorts:
    """Every port of the gateway as an in-memory fake; the clock tells the time it is set to."""
    return GatewayPorts(
        publisher=InMemoryPublisher(),
        events=InMemoryEventLog(),
        snapshots=InMemorySnapshotStore(),
        tombstones=InMemoryTombstoneStore(),
        written=InMemoryWrittenEvents(),
        letters=InMemoryDeadLetterStore(),
        courses=InMemoryCatalogStore(),
        certificates=InMemoryCertificateStore(),
        catalog_jobs=InMemoryCatalogJobStore(),
        insights=InMemoryInsightStore(),
        pointers=InMemoryMergePointers(),
        statements=InMemoryStatementStore(),
        usage=InMemoryUsageStore(),
        state_documents=InMemoryDocumentStore(),
        profile_documents=InMemoryDocumentStore(),
        tenants=InMemoryTenantStore(
            bootstrap_record(TENANT, API_KEY, SIGNING_SECRET, datetime.now(UTC))
        ),
        issuers=cast(MongoIssuerStore, NoIssuers()),
        clock=FixedClock(datetime.now(UTC)),
        kafka_ready=_ready,
        mongo_ready=_ready,
        causal_reads=_no_session,
    )


def user_token(user: str, *, secret: str = SIGNING_SECRET, ttl: int = 300) -> str:
    """A user token of tenant `demo` for `user`, signed with `secret`, living `ttl` s."""
    issued = int(time.time())
    claims = {"sub": user, "tid": TENANT, "iat": issued, "exp": issued + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


class InProcessGateway:
    """The gateway app over `fake_ports()`; `client()` talks to it over an ASGI transport."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.ports = fake_ports()
        self.settings = settings or Settings()

        @asynccontextmanager
        async def over_fakes(settings: Settings) -> AsyncIterator[GatewayContext]:
            yield build_context(settings, self.ports)

        self.app = create_app(self.settings, over_fakes)

    @property
    def publisher(self) -> InMemoryPublisher:
        return cast(InMemoryPublisher, self.ports.publisher)

    @asynccontextmanager
    async def client(self, authorization: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """A client of the running app; `authorization` is sent with every request."""
        headers = {} if authorization is None else {"Authorization": authorization}
        transport = httpx.ASGITransport(app=self.app)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.app.router.lifespan_context(self.app))
            yield await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://gateway", headers=headers)
            )
