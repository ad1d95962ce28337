"""Publishing accepted events to `progress.events` and waiting for the broker's acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka.errors import KafkaError
from faststream.kafka.publisher import DefaultPublisher

from shared.adapters.errors import BrokerUnavailable
from shared.adapters.kafka import event_headers
from shared.adapters.topics import message_key
from shared.domain import RecordedEvent

__all__ = ["EventPublisher"]


class EventPublisher:
    """Sends a request's events concurrently (the producer batches them) within a time bound."""

    def __init__(self, publisher: DefaultPublisher, timeout_seconds: float) -> None:
        self._publisher = publisher
        self._timeout = timeout_seconds

    async def publish(self, events: Sequence[RecordedEvent], request_id: str) -> None:
        """Return once the broker acknowledged every event (acks=all).

        Raises `BrokerUnavailable` if that does not happen within the bound. Some events may
        still have been stored: resending the whole batch is safe, events are idempotent.
        """
        headers = event_headers(request_id)
        sends = [
            self._publisher.publish(
                event.to_json(), key=message_key(event.tenant_id, event.user_id), headers=headers
            )
            for event in events
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*sends), self._timeout)
        except (KafkaError, TimeoutError, ConnectionError) as error:
            raise BrokerUnavailable(f"{type(error).__name__}: {error}") from error
