"""The write path both endpoints share: validate each event alone, publish the accepted ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.schemas import EventResult, WriteResponse
from shared.adapters.errors import BrokerUnavailable
from shared.adapters.logs import get_logger
from shared.adapters.metrics import GATEWAY_EVENTS
from shared.domain import ContractViolation, RecordedEvent, is_valid_id, validate_event

__all__ = ["MAX_EVENTS_PER_REQUEST", "RETRY_AFTER_SECONDS", "Submission", "write_events"]

MAX_EVENTS_PER_REQUEST = 500
RETRY_AFTER_SECONDS = 5
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Submission:
    """One event as sent, and the user it is for (None: the user field itself was invalid)."""

    user_id: str | None
    raw: object


def _event_id_of(raw: object) -> str | None:
    value = raw.get("eventId") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= 128 else None


def _type_label(raw: object) -> str:
    value = raw.get("type") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= 32 else "unknown"


def check_batch_size(count: int) -> None:
    """Raise 413 for more events than one request may carry."""
    if count > MAX_EVENTS_PER_REQUEST:
        raise ApiError(
            413,
            "too_many_events",
            f"{count} events in one request; at most {MAX_EVENTS_PER_REQUEST} are accepted",
            field="events",
        )


async def write_events(
    context: GatewayContext,
    tenant_id: str,
    submissions: Sequence[Submission],
    *,
    now: datetime,
    request_id: str,
) -> WriteResponse:
    """Validate every event on its own, publish the accepted ones, then answer per event.

    One bad event never sinks the others. Returns only after the broker acknowledged every
    accepted event; raises a 503 `ApiError` (safe to resend whole) if it did not in time.
    """
    results: list[EventResult] = []
    accepted: list[RecordedEvent] = []
    for submission in submissions:
        try:
            if submission.user_id is None or not is_valid_id(submission.user_id):
                raise ContractViolation(
                    "userId",
                    "must be 1-128 printable characters without whitespace",
                    _event_id_of(submission.raw),
                )
            event = validate_event(submission.raw, now=now)
        except ContractViolation as violation:
            results.append(
                EventResult(
                    eventId=_event_id_of(submission.raw), status="rejected", error=str(violation)
                )
            )
            GATEWAY_EVENTS.labels("rejected", _type_label(submission.raw)).inc()
            continue
        recorded = RecordedEvent(
            tenant_id=tenant_id, user_id=submission.user_id, received_at=now, event=event
        )
        accepted.append(recorded)
        results.append(EventResult(eventId=recorded.event_id, status="accepted"))
    await publish(context, accepted, request_id)
    log.info(
        "events_written",
        tenant=tenant_id,
        accepted=[event.event_id for event in accepted],
        rejected=[result.error for result in results if result.status == "rejected"],
    )
    return WriteResponse(
        accepted=len(accepted), rejected=len(results) - len(accepted), results=results
    )


async def publish(context: GatewayContext, events: list[RecordedEvent], request_id: str) -> None:
    """Publish and count; a broker that does not acknowledge in time becomes a 503."""
    if not events:
        return
    try:
        await context.publisher.publish(events, request_id)
    except BrokerUnavailable as error:
        log.warning(
            "publish_unacknowledged",
            events=[event.event_id for event in events],
            error=str(error),
        )
        for event in events:
            GATEWAY_EVENTS.labels("unavailable", event.type).inc()
        raise ApiError(
            503,
            "broker_unavailable",
            "the event broker did not acknowledge in time; some events may have been stored. "
            "Resend the whole batch: events are idempotent by eventId.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from error
    for event in events:
        GATEWAY_EVENTS.labels("accepted", event.type).inc()
