"""Opening and closing the database and the broker for one process, from its settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from shared.adapters.kafka import broker_errors
from shared.adapters.logs import get_logger
from shared.adapters.mongo import Document, ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.adapters.topic_admin import TopicsMisconfigured, verify_topics

__all__ = ["Connections", "connections"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Connections:
    """A process's open clients: the database, and the broker when it asked for one."""

    db: AsyncDatabase[Document]
    broker: KafkaBroker | None = None

    def require_broker(self) -> KafkaBroker:
        """The broker; only for processes that opened one."""
        if self.broker is None:
            raise RuntimeError("these connections were opened without a broker")
        return self.broker


@asynccontextmanager
async def connections(
    settings: Settings, broker: KafkaBroker | None = None, *, indexes: bool = True
) -> AsyncIterator[Connections]:
    """Open MongoDB (creating the indexes) and connect `broker`'s producer; close both after.

    With a broker, the topics are verified first (`TopicsMisconfigured` names what differs,
    and is logged as `refused_to_start`). Subscribers are not started here: a consumer
    starts its broker once its handlers have what they need. Outages raise
    `StoreUnavailable` / `BrokerUnavailable`.
    """
    client = mongo_client(settings)
    try:
        db = client[settings.mongo_database]
        if indexes:
            await ensure_indexes(db)
        if broker is not None:
            try:
                await verify_topics(settings)
            except TopicsMisconfigured as error:
                log.error("refused_to_start", reason=str(error))
                raise
            async with broker_errors("cannot connect to the broker"):
                await broker.connect()
        yield Connections(db, broker)
    finally:
        if broker is not None:
            await broker.stop()
        await client.close()
