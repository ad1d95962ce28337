"""Which partitions a consumer owns, so work of a revoked partition is dropped, not finished.

A rebalance runs beside the handler (aiokafka's coordinator does not wait for it): while a
batch is being projected, its partitions may be revoked and given to another consumer of
the group, which reads them again from the last commit. The old owner must then neither
start writing records it no longer owns nor commit them (a zombie paused past its session
timeout is the extreme case). Writes stay idempotent either way; this keeps the old owner
from racing the new one and from committing on the new owner's behalf.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from shared.adapters.logs import get_logger
from shared.adapters.metrics import CONSUMER_REBALANCES

__all__ = ["PartitionOwnership"]

log = get_logger(__name__)


class PartitionOwnership(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """A rebalance listener that counts each partition's revocations.

    `marks()` before a batch and `revoked_since()` after it tell whether any partition of
    the batch was revoked meanwhile, even if it was assigned back (its position was then
    reset to the last commit, so the batch comes again).
    """

    def __init__(self, service: str) -> None:
        self._service = service
        self._revocations: dict[TopicPartition, int] = {}

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Called by aiokafka before the consumer rejoins its group."""
        for partition in revoked:
            self._revocations[partition] = self._revocations.get(partition, 0) + 1
        if revoked:
            CONSUMER_REBALANCES.labels(self._service, "revoked").inc(len(revoked))
            log.info("partitions_revoked", service=self._service, partitions=_names(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Called by aiokafka once the group gave this consumer its partitions."""
        if assigned:
            CONSUMER_REBALANCES.labels(self._service, "assigned").inc(len(assigned))
            log.info("partitions_assigned", service=self._service, partitions=_names(assigned))

    @staticmethod
    def owned(consumer: AIOKafkaConsumer) -> set[TopicPartition]:
        """The partitions `consumer` owns now (none while a rebalance is under way)."""
        owned: set[TopicPartition] = consumer.assignment()
        return owned

    def marks(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """The revocation count of each partition, to compare with after a batch."""
        return {partition: self._revocations.get(partition, 0) for partition in partitions}

    def revoked_since(self, marks: dict[TopicPartition, int]) -> set[TopicPartition]:
        """The partitions of `marks` revoked at least once since `marks()` was taken."""
        return {
            partition
            for partition, count in marks.items()
            if self._revocations.get(partition, 0) != count
        }


def _names(partitions: Iterable[TopicPartition]) -> list[str]:
    return sorted(f"{partition.topic}[{partition.partition}]" for partition in partitions)
