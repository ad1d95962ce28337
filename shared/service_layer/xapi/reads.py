"""Reading statements: by id, by the query's filters in pages, and as Activity Objects.

`activity` serves the Activities Resource from the statements naming an Activity.

A `more` cursor is opaque to clients: the page's parameters and the (stored, id) of its last
statement, base64url-encoded JSON. Following it repeats the same filters after that point,
so pages neither skip nor repeat statements stored before the first page was read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared.service_layer.ports import Clock
from shared.service_layer.xapi.ports import Attachment, StatementRecord, StatementStore
from shared.service_layer.xapi.quotas import XapiQuotas
from shared.xapi import (
    InvalidStatement,
    StatementQuery,
    UserRule,
    canonical_activity,
    check_learner,
    parse_agent,
    parse_statement_query,
)

__all__ = ["ACTIVITY_SOURCES", "MAX_PAGE", "ReadStatements", "StatementPage"]

MAX_PAGE = 100
"""The most statements one GET answers (also what `limit=0` means)."""
ACTIVITY_SOURCES = 50
"""The most statements an Activity Object is built from (the newest naming it)."""
_ANY_USERS = UserRule()


@dataclass(frozen=True, slots=True)
class StatementPage:
    """One GET of statements: the statements, the cursor of the next page, and when."""

    query: StatementQuery
    records: list[StatementRecord]
    more: str | None
    consistent_through: datetime
    attachments: list[Attachment] = field(default_factory=list)


class ReadStatements:
    """The Statement Resource's reads for one tenant."""

    def __init__(
        self, store: StatementStore, clock: Clock, quotas: XapiQuotas | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._page_attachment_bytes = (quotas or XapiQuotas()).page_attachment_bytes

    async def one(
        self, tenant_id: str, query: StatementQuery, learner: str | None = None
    ) -> StatementRecord | None:
        """The statement of `statementId` (unless voided) or `voidedStatementId` (if voided).

        With a user token's `learner`, only a statement stored for that userId is found.
        """
        wanted = query.statement_id or query.voided_statement_id
        assert wanted is not None, "a single-statement query names an id"
        found = (await self._store.get_many(tenant_id, [wanted])).get(wanted)
        if found is None or found.voided != (query.voided_statement_id is not None):
            return None
        if learner is not None and found.user_id != learner:
            return None
        return found

    async def page(
        self,
        tenant_id: str,
        params: Mapping[str, str],
        *,
        learner: str | None = None,
        users: UserRule = _ANY_USERS,
    ) -> StatementPage:
        """The statements a query (or a `more` cursor) selects, at most `MAX_PAGE`.

        With `attachments`, a page also stops before its attachment data passes the page's
        byte bound (`XapiQuotas.page_attachment_bytes`), so one GET never loads every blob.

        With a user token's `learner`, only statements stored for that userId are selected,
        and an `agent` parameter must map to it under `users` (checked after a cursor is
        decoded: a cursor is not signed).

        Raises:
            InvalidStatement: A parameter is wrong (named), or the cursor is not ours.
            NotTheLearner: The `agent` parameter names another learner than `learner`.
        """
        consistent = self._clock.now()
        after: tuple[datetime, str] | None = None
        if "more" in params:
            if len(params) > 1:
                extra = sorted(set(params) - {"more"})[0]
                raise InvalidStatement(extra, "cannot be combined with more")
            params, after = _decode(params["more"])
        query = parse_statement_query(params)
        if learner is not None:
            if "agent" in params:
                check_learner(parse_agent(params["agent"])[1], users, learner, "agent")
            query = replace(query, learner=learner)
        limit = min(query.limit or MAX_PAGE, MAX_PAGE)
        found = await self._store.find(tenant_id, query, after, limit + 1)
        records, rest = found[:limit], found[limit:]
        attachments: list[Attachment] = []
        if query.attachments:
            kept = await self._within_attachment_bytes(tenant_id, records)
            if kept < len(records):
                records, rest = records[:kept], records[kept:]
            attachments = await self.attachments(tenant_id, records)
        more = _encode(params, records[-1]) if rest else None
        return StatementPage(query, records, more, consistent, attachments)

    async def _within_attachment_bytes(
        self, tenant_id: str, records: Sequence[StatementRecord]
    ) -> int:
        """How many of the records one page serves with their attachment data.

        The page stops before the statement whose attachments would take it past the byte
        bound (the rest follow with `more`); the first statement is always served.
        """
        wanted = _sha2s(records)
        sizes = await self._store.attachment_sizes(tenant_id, wanted) if wanted else {}
        seen: set[str] = set()
        total = 0
        for position, record in enumerate(records):
            new = set(_sha2s([record])) - seen
            total += sum(sizes.get(sha2, 0) for sha2 in new)
            if position and total > self._page_attachment_bytes:
                return position
            seen |= new
        return len(records)

    async def activity(self, tenant_id: str, activity_id: str) -> dict[str, Any]:
        """The Activity Object of `activity_id` (`canonical_activity`); just its id if unknown.

        Built from the `ACTIVITY_SOURCES` newest unvoided statements naming the Activity
        anywhere, so its cost is bounded whatever the tenant stored.
        """
        query = StatementQuery(activity=activity_id, related_activities=True)
        found = await self._store.find(tenant_id, query, None, ACTIVITY_SOURCES)
        return canonical_activity(activity_id, [record.statement for record in found])

    async def attachments(
        self, tenant_id: str, records: Sequence[StatementRecord]
    ) -> list[Attachment]:
        """The kept data of these statements' attachments, each SHA-2 once, in order."""
        wanted = _sha2s(records)
        kept = await self._store.attachments(tenant_id, wanted) if wanted else {}
        return [kept[sha2] for sha2 in wanted if sha2 in kept]


def _sha2s(records: Sequence[StatementRecord]) -> list[str]:
    """The SHA-2s of these statements' attachments (SubStatements' too), each once, in order."""
    wanted: list[str] = []
    for record in records:
        for attachment in _attachments_of(record.statement):
            if attachment["sha2"].lower() not in wanted:
                wanted.append(attachment["sha2"].lower())
    return wanted


def _attachments_of(statement: dict[str, Any]) -> list[dict[str, Any]]:
    inner = statement["object"]
    nested = inner.get("attachments", []) if inner.get("objectType") == "SubStatement" else []
    return [*statement.get("attachments", []), *nested]


def _encode(params: Mapping[str, str], last: StatementRecord) -> str:
    cursor = {"p": dict(params), "a": [last.stored.isoformat(), last.statement_id]}
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")


def _decode(more: str) -> tuple[dict[str, str], tuple[datetime, str]]:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(more + "=" * (-len(more) % 4)))
        params = {str(k): str(v) for k, v in cursor["p"].items()}
        stored, statement_id = cursor["a"]
        return params, (datetime.fromisoformat(stored), str(statement_id))
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise InvalidStatement("more", "is not a cursor this LRS gave out") from None
