"""Where a failed message goes next: the retry tier of its attempt, or the dead letters."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Literal

import structlog

from shared.domain import RecordedEvent
from shared.domain.wire import message_key
from shared.service_layer.dead_letter_records import DeadLetter
from shared.service_layer.deliveries import Attempt, Delivery
from shared.service_layer.ports import Clock, DeadLetterStore, RetryRoutes
from shared.service_layer.retry_schedule import JITTER, RETRY_TIERS

__all__ = ["FailureRouter", "Routed"]

_MAX_ERROR_CHARS = 500
log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Routed:
    """What happened to one failed message: scheduled on a tier, or dead-lettered.

    Attributes:
        kind: `retry` or `dead_letter`.
        label: The tier's name, or the dead letter's reason.
        seconds_in_retry: For a dead letter after retries, first failure to now.
    """

    kind: Literal["retry", "dead_letter"]
    label: str
    seconds_in_retry: float | None = None


class FailureRouter:
    """Sends failed events to the next retry tier, and what cannot succeed to the dead letters.

    Each send waits for the broker's acknowledgement and the dead-letter document is written
    before the caller commits its offset, so a failed message is never dropped: if either
    fails, the caller must not commit and the message comes back.
    """

    def __init__(
        self,
        routes: RetryRoutes,
        letters: DeadLetterStore,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._routes = routes
        self._letters = letters
        self._clock = clock
        self._rng = rng or random.Random()

    async def retry_or_dead_letter(
        self, delivery: Delivery, error: str, event: RecordedEvent | None
    ) -> Routed:
        """Schedule the next attempt, or dead-letter after the last tier has failed."""
        attempts = self._attempts(delivery, error)
        attempt = attempts[-1]
        if attempt.attempt > len(RETRY_TIERS):
            return await self._dead_letter(delivery, "retries_exhausted", attempts, event)
        index = attempt.attempt - 1
        tier = RETRY_TIERS[index]
        delay = tier.delay_seconds * self._rng.uniform(1 - JITTER, 1 + JITTER)
        await self._routes.to_tier(index, delivery, attempts, attempt.at + timedelta(seconds=delay))
        log.warning(
            "event_scheduled_for_retry",
            request_id=delivery.request_id,
            tenant=event.tenant_id if event else None,
            event_id=event.event_id if event else None,
            tier=tier.name,
            attempt=attempt.attempt,
            error=error,
            topic=delivery.topic,
            partition=delivery.partition,
            offset=delivery.offset,
        )
        return Routed("retry", tier.name)

    async def dead_letter_now(
        self, delivery: Delivery, reason: str, error: str, event: RecordedEvent | None
    ) -> Routed:
        """Dead-letter at once a message that cannot succeed on retry (undecodable, refused)."""
        return await self._dead_letter(delivery, reason, self._attempts(delivery, error), event)

    def _attempts(self, delivery: Delivery, error: str) -> list[Attempt]:
        attempt = Attempt(len(delivery.attempts) + 1, error[:_MAX_ERROR_CHARS], self._clock.now())
        return [*delivery.attempts, attempt]

    async def _dead_letter(
        self,
        delivery: Delivery,
        reason: str,
        attempts: Sequence[Attempt],
        event: RecordedEvent | None,
    ) -> Routed:
        # 1. The letter first: storing it again after a redelivery is a no-op. 2. Then the
        #    dead-letter topic. 3. Only then may the caller commit.
        key = delivery.key
        if key is None and event is not None:
            key = message_key(event.tenant_id, event.user_id)
            delivery = replace(delivery, key=key)
        letter_id = await self._letters.add(
            DeadLetter(
                reason=reason,
                raw=delivery.raw,
                key=key,
                attempts=list(attempts),
                original_topic=delivery.topic,
                original_partition=delivery.partition,
                original_offset=delivery.offset,
                request_id=delivery.request_id,
                tenant_id=event.tenant_id if event else None,
                user_id=event.user_id if event else None,
                event_id=event.event_id if event else None,
                event_type=event.type if event else None,
            )
        )
        await self._routes.to_dead_letter_topic(delivery, reason, attempts)
        log.error(
            "event_dead_lettered",
            request_id=delivery.request_id,
            tenant=event.tenant_id if event else None,
            event_id=event.event_id if event else None,
            reason=reason,
            dead_letter_id=letter_id,
            attempts=len(attempts),
            topic=delivery.topic,
            partition=delivery.partition,
            offset=delivery.offset,
        )
        in_retry = None
        if delivery.attempts:
            in_retry = (attempts[-1].at - delivery.attempts[0].at).total_seconds()
        return Routed("dead_letter", reason, in_retry)
