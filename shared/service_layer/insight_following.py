"""Following `progress.changes` for the course insights: decode, recount the learners, ack.

An outage (the database, a conflict that outlived its retries, anything unexpected) rewinds
the batch and backs off, as the projector does: nothing is committed past a change whose
learners were not recounted. An undecodable announcement is logged, counted and skipped:
it names no learner, and the next change of every learner recounts them from scratch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from shared.service_layer.backoff import Backoff
from shared.service_layer.changes import SnapshotChange
from shared.service_layer.consume import OUTAGES
from shared.service_layer.deliveries import ConsumedRecord
from shared.service_layer.errors import StoreTimeout
from shared.service_layer.insights import Insights

__all__ = ["ChangesFollowed", "InsightsFollower"]

log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ChangesFollowed:
    """What became of a batch of announcements.

    Attributes:
        ack: Commit the batch; when False, seek back and wait `pause_seconds`.
        handled: Announcements decoded and recounted.
        changed: Learners whose contributions changed (a repeat changes none).
        undecodable: Announcements skipped as unreadable.
    """

    ack: bool
    handled: int = 0
    changed: int = 0
    undecodable: int = 0
    pause_seconds: float = 0.0
    error: str | None = None


class InsightsFollower:
    """Recounts the learners a batch of announcements names; rewinds on an outage."""

    def __init__(self, insights: Insights) -> None:
        self._insights = insights
        self._backoff = Backoff()

    async def consume(self, records: Sequence[ConsumedRecord]) -> ChangesFollowed:
        """Handle one batch; the outcome says whether to ack or to rewind and pause."""
        changes: list[SnapshotChange] = []
        undecodable = 0
        for record in records:
            try:
                changes.append(SnapshotChange.from_json(record.value))
            except ValueError as error:
                undecodable += 1
                log.error(
                    "undecodable_change",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    error=str(error),
                )
        try:
            changed = await self._insights.follow(changes)
        except Exception as error:  # deliberately broad: never commit past unhandled changes
            delay = self._backoff.next_delay()
            reason = f"{type(error).__name__}: {error}"
            log.warning(
                "insights_paused",
                error=reason,
                records=len(records),
                retry_in_seconds=round(delay, 2),
                exc_info=not isinstance(error, (*OUTAGES, StoreTimeout)),
            )
            return ChangesFollowed(ack=False, pause_seconds=delay, error=reason)
        self._backoff.reset()
        log.info(
            "changes_followed",
            changes=len(changes),
            learners_changed=changed,
            first_offsets={
                f"{record.topic}/{record.partition}": record.offset for record in reversed(records)
            },
        )
        return ChangesFollowed(
            ack=True, handled=len(changes), changed=changed, undecodable=undecodable
        )
