"""Storing statements (PUT and POST): validate, keep, and send their meaning through Ingest.

A statement answered 200/204 is stored and readable by id at once; its derived native events
go through `Ingest.submit` (quotas, erasure and consistency tokens apply as to any write).
An identical resend stores nothing and re-publishes the events derived from the stored
statement (DESIGN "xAPI resends": the first publish may have failed).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog

from shared.domain import EventsRetracted
from shared.domain.payloads import RetractionPayload
from shared.service_layer.cost import Charge
from shared.service_layer.ingest import Ingest, Submission
from shared.service_layer.ports import Clock
from shared.service_layer.user_keys import UserKey
from shared.service_layer.xapi.erased_learners import refuse_erased
from shared.service_layer.xapi.ports import (
    Attachment,
    SignatureStatus,
    SignatureVerifier,
    StatementRecord,
    StatementStore,
    Usage,
    UsageStore,
)
from shared.service_layer.xapi.quotas import QuotaExceeded, XapiQuotas
from shared.xapi import (
    InvalidStatement,
    MappingRules,
    StatementBody,
    XapiVersion,
    check_attachment_data,
    check_learner,
    check_signature,
    check_voidable_by,
    derive_events,
    is_voidable,
    iso_ms,
    retracted_event_ids,
    same_statement,
    signature_attachment,
    to_milliseconds,
    user_id_for,
    validate_statement,
    validate_statements,
    voided_statement_id,
)

__all__ = ["StatementConflict", "StatementWrite", "StoreStatements"]

log = structlog.stdlib.get_logger(__name__)


class StatementConflict(Exception):
    """A statement id already stored with different content (409, Communication 2.1.1)."""


@dataclass(frozen=True, slots=True)
class StatementWrite:
    """The ids of the statements written, in request order, and a token per user."""

    ids: list[str]
    tokens: dict[UserKey, str] = field(default_factory=dict)
    rejected_events: int = 0
    """Derived events Ingest refused (a quota, say); the statements are stored regardless."""
    signatures: list[SignatureStatus] = field(default_factory=list)
    """The signature status of each signed statement newly stored, in request order."""

    @property
    def signature(self) -> SignatureStatus | None:
        """The write's `Progress-Signature`, or None when it holds no signed statement.

        `unverified` when any of its signed statements is, else `verified`.
        """
        if not self.signatures:
            return None
        return "unverified" if "unverified" in self.signatures else "verified"


class StoreStatements:
    """The Statement Resource's writes; each call brings its tenant's mapping rules."""

    def __init__(
        self,
        store: StatementStore,
        ingest: Ingest,
        clock: Clock,
        signatures: SignatureVerifier,
        usage: UsageStore,
        quotas: XapiQuotas,
    ) -> None:
        self._store = store
        self._ingest = ingest
        self._clock = clock
        self._signatures = signatures
        self._usage = usage
        self._quotas = quotas

    async def store(
        self,
        tenant_id: str,
        body: StatementBody,
        *,
        version: XapiVersion,
        authority: dict[str, Any],
        request_id: str,
        rules: MappingRules,
        charge: Charge,
        statement_id: str | None = None,
        learner: str | None = None,
        require_verified: bool = False,
    ) -> StatementWrite:
        """Store a PUT's statement (`statement_id` given) or a POST's one or many.

        `rules` (the tenant's profile) map each actor to the userId kept
        with its statement and give the derived events. Before anything is stored, `charge`
        is called with what the request costs: each user one token per event derived for
        them, the tenant max(1, derived events) per statement (resends included: they
        publish again); whatever it raises refuses the request. A user token's `learner`
        must be every actor's userId and may void only statements stored for it. A signed
        statement whose JWS has no `x5c` cannot be checked: it is stored as `unverified`,
        unless `require_verified` (the tenant's profile) refuses it.

        Raises:
            InvalidStatement: A rule is broken (naming the property), a signed statement's
                JWS is malformed, uses another algorithm than RS256/384/512, signs another
                statement or does not verify with its `x5c` certificate; nothing is stored.
            StatementConflict: An id is stored with other content; nothing is stored.
            UserErased: An actor is an erased user; nothing is stored.
            QuotaExceeded: An actor's learner would pass the statement or attachment quota;
                nothing is stored.
            NotTheLearner: With `learner`, an actor maps to another userId (or an account
                is outside `accountHomePages`), or a voided statement is not the learner's;
                nothing is stored.
            BrokerUnavailable: The statements are stored but their events were not all
                acknowledged; resending them is safe (a resend re-publishes).
        """
        statements, signatures = self._validated(body, version, statement_id, require_verified)
        if learner is not None:
            for position, statement in enumerate(statements):
                check_learner(statement["actor"], rules.users, learner, f"[{position}].actor")
        clock = self._clock.now()
        now = clock.replace(microsecond=clock.microsecond // 1000 * 1000)
        for statement in statements:
            statement.setdefault("id", str(uuid.uuid4()))
        ids = [str(statement["id"]).lower() for statement in statements]
        repeated = next((i for i, sid in enumerate(ids) if ids.index(sid) != i), None)
        if repeated is not None:
            raise InvalidStatement(f"[{repeated}].id", "repeats an id of the same batch")
        existing = await self._store.get_many(tenant_id, ids)
        fresh: list[StatementRecord] = []
        for position, (statement, sid) in enumerate(zip(statements, ids, strict=True)):
            if sid in existing:
                if not same_statement(existing[sid].statement, statement):
                    raise StatementConflict(f"statement {sid} is stored with other content")
                continue
            record = _complete(statement, now, version, authority, rules)
            fresh.append(replace(record, signature=signatures.get(position)))
        charge(*_cost([existing.get(sid) or _by_id(fresh, sid) for sid in ids], rules))
        fresh = await self._with_targets(tenant_id, fresh)
        if learner is not None:
            await self._check_voids(tenant_id, fresh, ids, learner)
        await refuse_erased(self._ingest.erased, tenant_id, (r.user_id for r in fresh), "actor")
        added = await self._check_quotas(tenant_id, fresh, ids, body)
        taken = await self._store.insert(tenant_id, fresh)
        await self._count_stored(
            tenant_id, added, [r for r in fresh if r.statement_id not in taken]
        )
        if taken:
            raced = await self._store.get_many(tenant_id, sorted(taken))
            for record in fresh:
                won = raced.get(record.statement_id)
                if won is not None and not same_statement(won.statement, record.statement):
                    raise StatementConflict(f"statement {record.statement_id} is stored already")
            existing.update(raced)
        await self._keep_attachments(tenant_id, fresh, body)
        records = [existing.get(sid) or _by_id(fresh, sid) for sid in ids]
        written = await self._publish(tenant_id, records, ids, request_id, now, rules)
        return replace(written, signatures=[r.signature for r in records if r.signature])

    def _validated(
        self,
        body: StatementBody,
        version: XapiVersion,
        statement_id: str | None,
        require_verified: bool,
    ) -> tuple[list[dict[str, Any]], dict[int, SignatureStatus]]:
        """The validated statements, and the signature status of each signed one by position."""
        if statement_id is None:
            statements = validate_statements(body.statements, version=version)
        else:
            single = validate_statement(body.statements, version=version)
            sent = single.get("id")
            if sent is not None and str(sent).lower() != statement_id.lower():
                raise InvalidStatement("id", "differs from the statementId parameter")
            single["id"] = sent or statement_id
            statements = [single]
        check_attachment_data(statements, body)
        signatures: dict[int, SignatureStatus] = {}
        for position, statement in enumerate(statements):
            found = signature_attachment(statement)
            if found is None:
                continue
            data = body.attachments.get(found[1]["sha2"].lower())
            where = f"[{position}].attachments[{found[0]}]"
            if data is None:
                raise InvalidStatement(where, "a signature must be sent as a part (Data 2.6)")
            try:
                signed = check_signature(statement, data)
            except InvalidStatement as error:
                raise error.within(f"[{position}]") from None
            problem = self._signatures.problem(signed)
            if problem is None and require_verified and not signed.checkable:
                problem = "this tenant requires signatures verifiable with an x5c certificate"
            if problem is not None:
                raise InvalidStatement(where, problem)
            signatures[position] = "verified" if signed.checkable else "unverified"
        return statements, signatures

    async def _check_voids(
        self, tenant_id: str, records: Sequence[StatementRecord], ids: list[str], learner: str
    ) -> None:
        """A user token voids only statements stored for its learner (so: known ones)."""
        voided = {
            r.statement_id: v.lower() for r in records if (v := voided_statement_id(r.statement))
        }
        if not voided:
            return
        known = await self._store.get_many(tenant_id, sorted(set(voided.values())))
        known.update({r.statement_id: r for r in records if r.statement_id in voided.values()})
        for voiding, target in voided.items():
            owner = known[target].user_id if target in known else None
            check_voidable_by(owner, learner, f"[{ids.index(voiding)}].object.id")

    async def _with_targets(
        self, tenant_id: str, records: list[StatementRecord]
    ) -> list[StatementRecord]:
        """Records whose object is a StatementRef carry the statement it targets, if known."""
        refs = {r.statement_id: _ref(r.statement) for r in records}
        wanted = sorted({ref for ref in refs.values() if ref is not None})
        if not wanted:
            return records
        known = await self._store.get_many(tenant_id, wanted)
        known.update({r.statement_id: r for r in records if r.statement_id in wanted})
        return [
            replace(r, target=known[ref].statement)
            if (ref := refs[r.statement_id]) is not None and ref in known
            else r
            for r in records
        ]

    async def _check_quotas(
        self,
        tenant_id: str,
        records: Sequence[StatementRecord],
        ids: list[str],
        body: StatementBody,
    ) -> dict[str, Usage]:
        """What the write adds per quota owner; raise if one would pass a quota."""
        quotas, added = self._quotas, {}
        for owner in sorted({record.owner for record in records}):
            mine = [record for record in records if record.owner == owner]
            change = Usage(
                statements=len(mine),
                attachment_bytes=sum(len(data) for _, data in _attachment_data(mine, body)),
            )
            used = await self._usage.usage(tenant_id, owner)
            where = f"[{ids.index(mine[0].statement_id)}].actor"
            if used.statements + change.statements > quotas.statements:
                raise QuotaExceeded(
                    "statements",
                    where,
                    f"the actor's learner holds {used.statements} statements; at most "
                    f"{quotas.statements} are stored (PROGRESS_XAPI_QUOTA_STATEMENTS)",
                )
            if used.attachment_bytes + change.attachment_bytes > quotas.attachment_bytes:
                raise QuotaExceeded(
                    "attachment_bytes",
                    where,
                    f"the actor's learner keeps {used.attachment_bytes} bytes of attachments; "
                    f"{change.attachment_bytes} more would pass {quotas.attachment_bytes} "
                    "(PROGRESS_XAPI_QUOTA_ATTACHMENT_BYTES)",
                )
            added[owner] = change
        return added

    async def _count_stored(
        self, tenant_id: str, added: dict[str, Usage], stored: Sequence[StatementRecord]
    ) -> None:
        """Add what was stored to each owner's totals (a concurrent writer's ids left out)."""
        for owner, change in added.items():
            mine = [record for record in stored if record.owner == owner]
            if mine:
                change = replace(change, statements=len(mine))
                await self._usage.add(tenant_id, owner, mine[0].user_id, change)

    async def _keep_attachments(
        self, tenant_id: str, records: Sequence[StatementRecord], body: StatementBody
    ) -> None:
        for record in records:
            kept = [
                Attachment(attachment["sha2"].lower(), attachment["contentType"], data)
                for attachment, data in _attachment_data([record], body)
            ]
            if kept:
                await self._store.put_attachments(tenant_id, record.user_id, kept)

    async def _publish(
        self,
        tenant_id: str,
        records: Sequence[StatementRecord],
        ids: list[str],
        request_id: str,
        now: datetime,
        rules: MappingRules,
    ) -> StatementWrite:
        """Void what the voiding statements void, then submit every statement's events."""
        submissions: list[Submission] = []
        targets = await self._store.get_many(
            tenant_id, [v.lower() for r in records if (v := voided_statement_id(r.statement))]
        )
        batch = {record.statement_id: record for record in records}
        for record in records:
            voided = voided_statement_id(record.statement)
            if voided is None:
                derived = derive_events(record.statement, rules)
                submissions += [
                    Submission(derived.user_id, built=event) for event in derived.progress_events
                ]
                continue
            target = targets.get(voided.lower()) or batch.get(voided.lower())
            if target is None or not is_voidable(target.statement):
                continue
            await self._store.void(tenant_id, target.statement_id)
            if target.user_id is not None:
                retraction = _retraction(record, voided, rules.client_id)
                submissions.append(Submission(target.user_id, built=retraction))
        if not submissions:
            return StatementWrite(ids)
        result = await self._ingest.submit(tenant_id, submissions, now=now, request_id=request_id)
        if result.rejected:
            log.warning(
                "xapi_events_rejected",
                tenant=tenant_id,
                errors=[o.error for o in result.outcomes if not o.accepted],
            )
        return StatementWrite(ids, result.tokens, result.rejected)


def _complete(
    statement: dict[str, Any],
    now: datetime,
    version: XapiVersion,
    authority: dict[str, Any],
    rules: MappingRules,
) -> StatementRecord:
    """Set what the LRS sets (Data 2.4.8-2.4.10): stored, authority, version, timestamp."""
    statement["stored"] = iso_ms(now)
    statement["authority"] = authority
    statement.setdefault("timestamp", statement["stored"])
    statement.setdefault("version", "1.0.0" if version == "1.0.3" else "2.0.0")
    return StatementRecord(statement, now, user_id_for(statement["actor"], rules.users))


def _cost(records: Sequence[StatementRecord], rules: MappingRules) -> tuple[dict[str, int], int]:
    """Derived events per user, and the tenant's cost: max(1, derived events) per statement."""
    per_user: Counter[str] = Counter()
    tenant = 0
    for record in records:
        derived = derive_events(record.statement, rules)
        if derived.user_id is not None and derived.progress_events:
            per_user[derived.user_id] += len(derived.progress_events)
        tenant += max(1, len(derived.progress_events))
    return dict(per_user), tenant


def _retraction(voiding: StatementRecord, voided_id: str, client_id: str) -> EventsRetracted:
    """The `events.retracted` that withdraws whatever the voided statement derived."""
    return EventsRetracted(
        event_id=f"xapi:{voiding.statement_id}:retraction",
        occurred_at=to_milliseconds(voiding.stored),
        client_id=client_id,
        type="events.retracted",
        payload=RetractionPayload(event_ids=retracted_event_ids(voided_id)),
    )


def _attachment_data(
    records: Sequence[StatementRecord], body: StatementBody
) -> list[tuple[dict[str, Any], bytes]]:
    """Each attachment of these records that came with data, and its data."""
    return [
        (attachment, body.attachments[sha2])
        for record in records
        for attachment in record.statement.get("attachments", [])
        if (sha2 := attachment["sha2"].lower()) in body.attachments
    ]


def _ref(statement: dict[str, Any]) -> str | None:
    target = statement["object"]
    return str(target["id"]).lower() if target.get("objectType") == "StatementRef" else None


def _by_id(records: Sequence[StatementRecord], statement_id: str) -> StatementRecord:
    return next(record for record in records if record.statement_id == statement_id)
