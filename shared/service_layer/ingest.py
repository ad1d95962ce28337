"""Ingest: validate each submitted event on its own, record it, publish the accepted ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import structlog

from shared.domain import (
    ContractViolation,
    OverQuota,
    ProgressEvent,
    Quotas,
    RecordedEvent,
    Snapshot,
    accept_event,
    admit,
    clamp_clock,
    is_valid_id,
    new_reset_event,
)
from shared.service_layer.consistency import ReadYourWrites
from shared.service_layer.ingest_results import EventOutcome, IngestResult, Submission
from shared.service_layer.ports import (
    CatalogStore,
    EventPublisher,
    SnapshotStore,
    TombstoneStore,
)
from shared.service_layer.resets import UnknownCourse, expand_sent_reset, reset_scope
from shared.service_layer.user_keys import UserKey

__all__ = ["RESET_CLIENT", "EventOutcome", "Ingest", "IngestResult", "Submission"]

RESET_CLIENT = "gateway"
"""The clientId of the reset `Ingest.reset` appends (`DELETE …/progress`)."""

log = structlog.stdlib.get_logger(__name__)


class Ingest:
    """The write path of both write endpoints: one bad event never sinks the others."""

    def __init__(
        self,
        publisher: EventPublisher,
        tombstones: TombstoneStore,
        snapshots: SnapshotStore | None = None,
        quotas: Quotas | None = None,
        consistency: ReadYourWrites | None = None,
        courses: CatalogStore | None = None,
    ) -> None:
        self._publisher = publisher
        self._tombstones = tombstones
        self._snapshots = snapshots
        self._quotas = quotas
        self._consistency = consistency
        self._courses = courses

    async def erased(self, tenant_id: str, user_id: str) -> bool:
        """True when the user was erased: their writes are refused (410 on their own path)."""
        return bool(await self._tombstones.erased([(tenant_id, user_id)]))

    async def submit(
        self,
        tenant_id: str,
        submissions: Sequence[Submission],
        *,
        now: datetime,
        request_id: str,
    ) -> IngestResult:
        """Validate every event on its own, publish the accepted ones, answer per event.

        Returns only after the broker acknowledged every accepted event.

        Raises:
            BrokerUnavailable: The broker did not acknowledge in time; resending the whole
                batch is safe (events are idempotent by eventId).
        """
        result = IngestResult()
        checked = [await self._expand_and_check(tenant_id, s, now) for s in submissions]
        users = {(e.tenant_id, e.user_id) for e in checked if isinstance(e, RecordedEvent)}
        erased = await self._tombstones.erased(sorted(users)) if users else set()
        over = await self._over_quota(
            [e for e in checked if isinstance(e, RecordedEvent) and _key(e) not in erased]
        )
        for item in checked:
            if isinstance(item, EventOutcome):
                result.outcomes.append(item)
            elif _key(item) in erased:
                result.outcomes.append(
                    EventOutcome(
                        item.event_id, False, "the user was erased", item.type, "erased", "userId"
                    )
                )
            elif id(item) in over:
                refused = over[id(item)]
                result.outcomes.append(
                    EventOutcome(
                        item.event_id,
                        False,
                        f"quota {refused.quota}: {refused.message}",
                        item.type,
                        "quota",
                        refused.field,
                    )
                )
            else:
                result.published.append(item)
                result.outcomes.append(
                    EventOutcome(
                        item.event_id,
                        True,
                        type_name=item.type,
                        clock_adjusted=item.client_occurred_at is not None,
                    )
                )
        await self._publish(result.published, request_id)
        result.tokens = await self._tokens(result.published)
        log.info(
            "events_written",
            tenant=tenant_id,
            accepted=[event.event_id for event in result.published],
            rejected=[outcome.error for outcome in result.outcomes if not outcome.accepted],
        )
        return result

    async def _over_quota(self, events: list[RecordedEvent]) -> dict[int, OverQuota]:
        """The events (by identity) that would take their user past a quota."""
        if self._snapshots is None or self._quotas is None or not events:
            return {}
        by_user: dict[UserKey, list[RecordedEvent]] = {}
        for event in events:
            by_user.setdefault(_key(event), []).append(event)
        quotas = self._quotas
        usage = await self._snapshots.usage(list(by_user))
        by_user = {
            key: user_events
            for key, user_events in by_user.items()
            if key not in usage or not usage[key].far_from(quotas, len(user_events))
        }
        if not by_user:
            return {}
        stored = await self._snapshots.load_many(list(by_user))
        over: dict[int, OverQuota] = {}
        for key, user_events in by_user.items():
            found = stored.get(key)
            base = found.snapshot if found is not None else Snapshot.empty(*key)
            size = found.size if found is not None else None
            _, refused = admit(base, user_events, quotas, size)
            over.update((id(problem.event), problem) for problem in refused)
        return over

    async def reset(
        self,
        tenant_id: str,
        user_id: str,
        *,
        event_id: str | None,
        course_id: str | None,
        content_ids: list[str] | None,
        now: datetime,
        request_id: str,
    ) -> IngestResult:
        """Append a `progress.reset` for the user, scoped to a course and/or items (None: all).

        `event_id` (a client's Idempotency-Key) makes a retried reset reset once; without
        one a fresh id is drawn. A course scope is expanded by `reset_scope` when accepted.

        Raises:
            UnknownCourse: `course_id` names no course of the catalog; nothing is sent.
            ContractViolation: The eventId or a contentId is invalid (`field` says which).
            BrokerUnavailable: As for `submit`; repeating with the same `event_id` is safe.
        """
        scope = await reset_scope(self._courses, tenant_id, course_id, content_ids)
        event = new_reset_event(
            event_id=event_id or f"reset-{uuid.uuid4()}",
            occurred_at=now,
            client_id=RESET_CLIENT,
            content_ids=scope,
            course_id=course_id,
        )
        recorded = RecordedEvent(tenant_id=tenant_id, user_id=user_id, received_at=now, event=event)
        await self._publish([recorded], request_id)
        log.info("progress_reset", tenant=tenant_id, event_id=recorded.event_id, scoped=bool(scope))
        return IngestResult(
            outcomes=[EventOutcome(recorded.event_id, True, None, recorded.type)],
            published=[recorded],
            tokens=await self._tokens([recorded]),
        )

    async def _expand_and_check(
        self, tenant_id: str, submission: Submission, now: datetime
    ) -> RecordedEvent | EventOutcome:
        """`_check` of the submission once a course-only reset is expanded (`resets`)."""
        try:
            expanded = await expand_sent_reset(self._courses, tenant_id, submission)
        except UnknownCourse as unknown:
            return EventOutcome(
                submission.event_id,
                False,
                str(unknown),
                submission.type_name,
                "unknown_course",
                "payload",
            )
        return self._check(tenant_id, expanded, now)

    async def _tokens(self, events: Sequence[RecordedEvent]) -> dict[UserKey, str]:
        """A consistency token per user of these (accepted) events; none without tokens."""
        return {} if self._consistency is None else await self._consistency.tokens(events)

    async def _publish(self, events: Sequence[RecordedEvent], request_id: str) -> None:
        if events:
            await self._publisher.publish(events, request_id)

    @classmethod
    def _check(
        cls, tenant_id: str, submission: Submission, now: datetime
    ) -> RecordedEvent | EventOutcome:
        """The recorded event, or the outcome that rejects it (naming the field)."""
        try:
            user_id, (event, sent_at) = cls._validate(submission, now)
        except ContractViolation as violation:
            return EventOutcome(
                submission.event_id,
                False,
                str(violation),
                submission.type_name,
                "invalid_event",
                violation.field,
            )
        except RecursionError:
            return EventOutcome(
                submission.event_id,
                False,
                "the event is nested too deeply",
                submission.type_name,
                "invalid_event",
            )
        return RecordedEvent(
            tenant_id=tenant_id,
            user_id=user_id,
            received_at=now,
            event=event,
            client_occurred_at=sent_at,
        )

    @staticmethod
    def _validate(
        submission: Submission, now: datetime
    ) -> tuple[str, tuple[ProgressEvent, datetime | None]]:
        user_id = submission.user_id
        if user_id is None or not is_valid_id(user_id):
            raise ContractViolation(
                "userId",
                "must be 1-128 printable characters without whitespace",
                submission.event_id,
            )
        if submission.built is not None:
            return user_id, clamp_clock(submission.built, now=now)
        return user_id, accept_event(submission.raw, now=now)


def _key(event: RecordedEvent) -> UserKey:
    return (event.tenant_id, event.user_id)
