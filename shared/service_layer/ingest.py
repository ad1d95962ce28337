"""Ingest: validate each submitted event on its own, record it, publish the accepted ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from shared.domain import (
    ContractViolation,
    ProgressEvent,
    RecordedEvent,
    is_valid_id,
    validate_event,
)
from shared.domain.wire import ID_MAX_LENGTH
from shared.service_layer.ports import EventPublisher

__all__ = ["EventOutcome", "Ingest", "IngestResult", "Submission"]

log = structlog.stdlib.get_logger(__name__)
_TYPE_LABEL_MAX = 32


@dataclass(frozen=True, slots=True)
class Submission:
    """One event as sent, and the user it is for (None: the user field itself was invalid)."""

    user_id: str | None
    raw: object

    @property
    def event_id(self) -> str | None:
        """The eventId as sent, if it is a string of a plausible length."""
        value = self.raw.get("eventId") if isinstance(self.raw, dict) else None
        return value if isinstance(value, str) and len(value) <= ID_MAX_LENGTH else None

    @property
    def type_name(self) -> str | None:
        """The type as sent, if it is a short string (not necessarily a known type)."""
        value = self.raw.get("type") if isinstance(self.raw, dict) else None
        return value if isinstance(value, str) and len(value) <= _TYPE_LABEL_MAX else None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """The answer for one submitted event, in request order."""

    event_id: str | None
    accepted: bool
    error: str | None = None
    type_name: str | None = None


@dataclass(slots=True)
class IngestResult:
    """Every event's outcome, and the events handed to the broker."""

    outcomes: list[EventOutcome] = field(default_factory=list)
    published: list[RecordedEvent] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """How many events were rejected."""
        return sum(not outcome.accepted for outcome in self.outcomes)


class Ingest:
    """The write path of both write endpoints: one bad event never sinks the others."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

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
        for submission in submissions:
            try:
                user_id, event = self._validate(submission, now)
            except ContractViolation as violation:
                result.outcomes.append(
                    EventOutcome(submission.event_id, False, str(violation), submission.type_name)
                )
                continue
            recorded = RecordedEvent(
                tenant_id=tenant_id, user_id=user_id, received_at=now, event=event
            )
            result.published.append(recorded)
            result.outcomes.append(EventOutcome(recorded.event_id, True, None, recorded.type))
        await self.publish(result.published, request_id)
        log.info(
            "events_written",
            tenant=tenant_id,
            accepted=[event.event_id for event in result.published],
            rejected=[outcome.error for outcome in result.outcomes if not outcome.accepted],
        )
        return result

    async def publish(self, events: Sequence[RecordedEvent], request_id: str) -> None:
        """Hand already recorded events to the broker (see `submit` for the errors)."""
        if events:
            await self._publisher.publish(events, request_id)

    @staticmethod
    def _validate(submission: Submission, now: datetime) -> tuple[str, ProgressEvent]:
        user_id = submission.user_id
        if user_id is None or not is_valid_id(user_id):
            raise ContractViolation(
                "userId",
                "must be 1-128 printable characters without whitespace",
                submission.event_id,
            )
        return user_id, validate_event(submission.raw, now=now)
