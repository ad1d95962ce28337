"""Publishing accepted events to `progress.events` and waiting for the broker's acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka.errors import KafkaError
from faststream.kafka.publisher import DefaultPublisher

from shared.adapters.errors import BrokerUnavailable
from shared.adapters.kafka import event_headers
from shared.adapters.topics import message_key
from shared.domain import RecordedEvent

__all__ = ["EventPublisher"]


class EventPublisher:
    """Sends a request's events in one go (the producer batches them) within a time bound."""

    def __init__(self, publisher: DefaultPublisher, timeout_seconds: float) -> None:
        self._publisher = publisher
        self._timeout = timeout_seconds

    async def publish(self, events: Sequence[RecordedEvent], request_id: str) -> None:
        """Return once the broker acknowledged every event (acks=all).

        Raises `BrokerUnavailable` if that does not happen within the bound. Some events may
        still have been stored: resending the whole batch is safe, events are idempotent.
        """
        try:
            await asyncio.wait_for(self._send(events, event_headers(request_id)), self._timeout)
        except (KafkaError, TimeoutError, ConnectionError) as error:
            raise BrokerUnavailable(f"{type(error).__name__}: {error}") from error

    async def _send(self, events: Sequence[RecordedEvent], headers: dict[str, str]) -> None:
        """Append the events to the producer's batches one after another, then await them all.

        One at a time, not concurrently: concurrent sends that meet a full batch all wait
        for it to drain and then race for the next one, each race waking every waiter again
        (aiokafka's accumulator), which made a 500-event request ten times slower. Appending
        returns as soon as the event is in a batch; the acknowledgements are awaited together.
        """
        deliveries: list[asyncio.Future[Any]] = []
        try:
            for event in events:
                delivery = await self._publisher.publish(
                    event.to_json(),
                    key=message_key(event.tenant_id, event.user_id),
                    headers=headers,
                    no_confirm=True,
                )
                deliveries.append(delivery)
            await asyncio.gather(*deliveries)
        except BaseException:
            # Cut short (the time bound, a failed append): nobody awaits the rest any more.
            for delivery in deliveries:
                delivery.add_done_callback(_consume_outcome)
            raise


def _consume_outcome(delivery: asyncio.Future[Any]) -> None:
    """Mark a delivery's failure as seen: the caller already answered 503 for it."""
    if not delivery.cancelled():
        delivery.exception()
