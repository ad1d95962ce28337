"""Counting what the insights consumer did with each batch of announcements."""

from __future__ import annotations

import time
from collections.abc import Sequence

from shared.adapters.metrics import (
    INSIGHTS_BATCH_SECONDS,
    INSIGHTS_CHANGES,
    INSIGHTS_LAG_SECONDS,
    INSIGHTS_LEARNERS_CHANGED,
)
from shared.service_layer.insight_following import ChangesFollowed

__all__ = ["count_followed"]


def count_followed(
    outcome: ChangesFollowed, batch_seconds: float, announced_ms: Sequence[int]
) -> None:
    """Outcome counters, batch time, and announcement → visible lag of each record.

    `announced_ms` are the records' Kafka timestamps (ms since the epoch, set when the
    snapshot writer announced the change).
    """
    if not outcome.ack:
        INSIGHTS_CHANGES.labels("rewound").inc(len(announced_ms))
        return
    INSIGHTS_BATCH_SECONDS.observe(batch_seconds)
    INSIGHTS_CHANGES.labels("handled").inc(outcome.handled)
    INSIGHTS_CHANGES.labels("undecodable").inc(outcome.undecodable)
    INSIGHTS_LEARNERS_CHANGED.inc(outcome.changed)
    now_ms = time.time() * 1000
    for announced in announced_ms:
        INSIGHTS_LAG_SECONDS.observe(max(0.0, (now_ms - announced) / 1000))
