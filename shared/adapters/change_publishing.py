"""Publishing snapshot change announcements to `progress.changes`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher
from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.kafka import broker_errors
from shared.adapters.kafka_publishing import send_acknowledged
from shared.adapters.logs import get_logger
from shared.adapters.metrics import CHANGES_ANNOUNCED
from shared.adapters.settings import Settings
from shared.adapters.topics import CHANGES_TOPIC
from shared.domain.wire import message_key
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.errors import BrokerUnavailable

__all__ = ["KafkaChangeAnnouncer", "SnapshotChangeMessage", "changes_publisher"]

log = get_logger(__name__)


class SnapshotChangeMessage(BaseModel):
    """A committed snapshot change, as `progress.changes` carries it."""

    model_config = ConfigDict(title="SnapshotChange", extra="forbid")

    tenantId: str
    userId: str
    cursor: int = Field(ge=0, description="The log position the snapshot reflects; 0: none.")


def changes_publisher(broker: KafkaBroker) -> DefaultPublisher:
    """Declare the `progress.changes` publisher on a broker (it shows in the AsyncAPI document)."""
    return broker.publisher(
        CHANGES_TOPIC,
        title=CHANGES_TOPIC,
        description="Committed snapshot changes (tenant, user, cursor), keyed tenantId/userId; "
        "announced by every snapshot writer and by erasure.",
        schema=SnapshotChangeMessage,
    )


class KafkaChangeAnnouncer:
    """Sends announcements keyed tenantId/userId, acks=all, within a time bound.

    Straight to aiokafka, as `KafkaEventPublisher` does, within `kafka_request_timeout_ms`;
    `writer` names the announcing service in the metric.
    """

    def __init__(self, broker: KafkaBroker, settings: Settings, writer: str) -> None:
        self._broker = broker
        self._timeout = settings.kafka_request_timeout_ms / 1000
        self._writer = writer

    async def announce(self, changes: Sequence[SnapshotChange]) -> None:
        """Return once the broker acknowledged every announcement; else `BrokerUnavailable`."""
        if not changes:
            return
        try:
            async with broker_errors("changes not acknowledged"):
                messages = [(message_key(*change.key), change.to_json()) for change in changes]
                sending = send_acknowledged(self._broker, CHANGES_TOPIC, messages)
                await asyncio.wait_for(sending, self._timeout)
        except BrokerUnavailable as error:
            CHANGES_ANNOUNCED.labels(self._writer, "failed").inc(len(changes))
            log.warning(
                "changes_not_announced", writer=self._writer, changes=len(changes), error=str(error)
            )
            raise
        CHANGES_ANNOUNCED.labels(self._writer, "acknowledged").inc(len(changes))
