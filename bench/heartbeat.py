"""Heartbeat load: the video-player pattern of the LMS debouncer reference.

Many viewers, each player reporting its position every 2 s of playback and flushing its
reports to the server in small batches: a request of 5 `media.progressed` events every
10 s per viewer. Without a debouncer on the client, the server sees every heartbeat; the
figure is how many database write commands that costs per event, and how fresh the
snapshot stays meanwhile.
"""

from __future__ import annotations

import random
from typing import Any

from bench.freshness import Traffic
from bench.ingest import heartbeat

__all__ = ["heartbeats"]

_REPORT_EVERY_SECONDS = 2
_PER_REQUEST = 5
_FLUSH_EVERY_SECONDS = _REPORT_EVERY_SECONDS * _PER_REQUEST


def _report(rng: random.Random, sequence: int) -> dict[str, Any]:
    """The `sequence`-th report of a viewer: the position advances 2 s per report."""
    return heartbeat(sequence // 900, (sequence % 900) * _REPORT_EVERY_SECONDS, 2)


def heartbeats(seconds: float, viewers: int = 1_000) -> Traffic:
    """`viewers` players (default 1,000: 100 requests/s, 500 events/s) for `seconds`."""
    return Traffic(
        "heartbeat",
        viewers,
        _PER_REQUEST,
        viewers / _FLUSH_EVERY_SECONDS,
        seconds,
        _report,
    )
