"""An LRS on the in-memory fakes for the xAPI use-case tests, and statements to send it."""

from __future__ import annotations

from typing import Any

from shared.adapters.jws_certificates import X5cSignatureVerifier
from shared.service_layer.ingest import Ingest
from shared.service_layer.xapi.quotas import XapiQuotas
from shared.service_layer.xapi.reads import ReadStatements
from shared.service_layer.xapi.statements import StoreStatements
from shared.xapi import MappingRules, StatementBody
from tests.fakes import (
    FixedClock,
    InMemoryPublisher,
    InMemoryStatementStore,
    InMemoryTombstoneStore,
    InMemoryUsageStore,
)

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "urn:t", "name": "key"}}
ID_1 = "00000000-0000-4000-8000-000000000001"
ID_2 = "00000000-0000-4000-8000-000000000002"


def statement(statement_id: str | None = ID_1, user: str = "ana", **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "actor": {"mbox": f"mailto:{user}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://example.com/a1"},
        **more,
    }
    if statement_id is not None:
        body["id"] = statement_id
    return body


class World:
    """One tenant's Statement resource: writes, reads, the events it published."""

    def __init__(self, rules: MappingRules | None = None) -> None:
        self.rules = rules or MappingRules()
        self.store, self.publisher = InMemoryStatementStore(), InMemoryPublisher()
        self.tombstones, self.clock = InMemoryTombstoneStore(), FixedClock()
        self.writes = StoreStatements(
            self.store,
            Ingest(self.publisher, self.tombstones),
            self.clock,
            X5cSignatureVerifier(),
            InMemoryUsageStore(),
            XapiQuotas(),
        )
        self.reads = ReadStatements(self.store, self.clock)

    async def post(self, body: object, attachments: dict[str, bytes] | None = None) -> list[str]:
        written = await self.writes.store(
            "demo",
            StatementBody(body, attachments or {}),
            version="1.0.3",
            authority=AUTHORITY,
            request_id="r",
            rules=self.rules,
        )
        self.clock.advance(1)
        return written.ids

    def published(self) -> list[tuple[str, str]]:
        return [(e.user_id, e.event_id) for e, _ in self.publisher.published]
