"""Answering writes: the ingest use case's outcome as HTTP, counted, and the bounds before it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.schemas import EventResult, WriteResponse
from shared.adapters.logs import get_logger
from shared.adapters.outcome_metrics import PROMETHEUS_METRICS
from shared.service_layer.ingest import IngestResult, Submission

__all__ = [
    "answer",
    "charge_derived",
    "check_batch_size",
    "refuse_erased",
    "write_events",
]

log = get_logger(__name__)


def check_batch_size(
    context: GatewayContext, count: int, *, field: str = "events", what: str = "events"
) -> None:
    """Raise 413 for more events than one request may carry or derive (nothing is stored).

    The same bound (`PROGRESS_MAX_EVENTS_PER_REQUEST`) holds for the events of a write, the
    events an import derives, and the statements of an xAPI request; a client splits.
    """
    limit = context.max_events_per_request
    if count > limit:
        log.info("request_too_large", count=count, limit=limit, field=field)
        raise ApiError(
            413,
            f"too_many_{what}",
            f"{count} {what} in one request; at most {limit} are accepted "
            "(PROGRESS_MAX_EVENTS_PER_REQUEST): split the request",
            field=field,
        )


def charge_derived(
    context: GatewayContext,
    tenant_id: str,
    events_per_user: Mapping[str, int],
    tenant_cost: int | None = None,
) -> None:
    """Charge each user its derived events, then the tenant `tenant_cost` (default: their sum).

    A user deriving nothing is not charged; the tenant pays at least one token (the call).
    Raises the 429 of `RateLimits.charge` when a budget is out; the caller has stored
    nothing yet.
    """
    charged = {user: events for user, events in events_per_user.items() if events}
    cost = sum(charged.values()) if tenant_cost is None else tenant_cost
    context.rate_limits.charge(tenant_id, charged, max(1, cost))


async def refuse_erased(context: GatewayContext, tenant_id: str, user_id: str) -> None:
    """Raise 410 when the path's user was erased: nothing of theirs is accepted any more."""
    if await context.ingest.erased(tenant_id, user_id):
        raise ApiError(
            410,
            "erased",
            "this user was erased; an operator can allow the id again (progressctl reenable)",
            field="userId",
        )


async def write_events(
    context: GatewayContext,
    tenant_id: str,
    submissions: Sequence[Submission],
    request_id: str,
    *,
    single_user: bool = True,
) -> WriteResponse:
    """Run the ingest use case and answer per event (no broker ack: the app's 503 handler)."""
    result = await context.ingest.submit(
        tenant_id, submissions, now=context.clock.now(), request_id=request_id
    )
    return answer(result, single_user=single_user)


def answer(result: IngestResult, *, single_user: bool = True) -> WriteResponse:
    """The 202 of a write: a result per event (counted by outcome), and its token(s)."""
    for accepted in (True, False):
        named = [o.type_name for o in result.outcomes if o.accepted is accepted]
        PROMETHEUS_METRICS.events_answered("accepted" if accepted else "rejected", named)
    tokens = {user: token for (_, user), token in result.tokens.items()}
    return WriteResponse(
        accepted=len(result.outcomes) - result.rejected,
        rejected=result.rejected,
        consistencyToken=next(iter(tokens.values())) if len(tokens) == 1 and single_user else None,
        consistencyTokens=tokens if not single_user else None,
        results=[
            EventResult(
                eventId=outcome.event_id,
                status="accepted" if outcome.accepted else "rejected",
                error=outcome.error,
                code=outcome.code,
                field=outcome.field,
                clockAdjusted=True if outcome.clock_adjusted else None,
            )
            for outcome in result.outcomes
        ],
    )
