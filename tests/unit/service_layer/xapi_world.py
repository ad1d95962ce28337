"""An LRS on the in-memory fakes for the xAPI use-case tests, and statements to send it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.adapters.jws_certificates import X5cSignatureVerifier
from shared.service_layer.ingest import Ingest
from shared.service_layer.xapi.documents import Documents
from shared.service_layer.xapi.quotas import XapiQuotas
from shared.service_layer.xapi.reads import ReadStatements
from shared.service_layer.xapi.statements import StoreStatements
from shared.xapi import MappingRules, StatementBody
from tests.fakes import (
    FixedClock,
    InMemoryDocumentStore,
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


def voiding(statement_id: str, voided_id: str) -> dict[str, Any]:
    """A statement by an admin that voids `voided_id`."""
    return statement(
        statement_id,
        user="admin",
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": voided_id},
    )


class World:
    """One tenant's Statement and document resources: writes, reads, the events published."""

    def __init__(self, rules: MappingRules | None = None) -> None:
        self.rules = rules or MappingRules()
        self.store, self.publisher = InMemoryStatementStore(), InMemoryPublisher()
        self.tombstones, self.clock = InMemoryTombstoneStore(), FixedClock()
        ingest, usage = Ingest(self.publisher, self.tombstones), InMemoryUsageStore()
        self.writes = StoreStatements(
            self.store, ingest, self.clock, X5cSignatureVerifier(), usage, XapiQuotas()
        )
        self.reads = ReadStatements(self.store, self.clock)
        self.state, self.profiles = InMemoryDocumentStore(), InMemoryDocumentStore()
        self.documents = Documents(
            self.state, self.profiles, self.clock, ingest.erased, usage, XapiQuotas()
        )
        self.charges: list[tuple[dict[str, int], int]] = []

    def charge(self, users: Mapping[str, int], cost: int) -> None:
        """Record what a write cost (the gateway charges the rate-limit buckets)."""
        self.charges.append((dict(users), cost))

    async def post(self, body: object, attachments: dict[str, bytes] | None = None) -> list[str]:
        written = await self.writes.store(
            "demo",
            StatementBody(body, attachments or {}),
            version="1.0.3",
            authority=AUTHORITY,
            request_id="r",
            rules=self.rules,
            charge=self.charge,
        )
        self.clock.advance(1)
        return written.ids

    def published(self) -> list[tuple[str, str]]:
        return [(e.user_id, e.event_id) for e, _ in self.publisher.published]
