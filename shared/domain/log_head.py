"""The visible head of a user's log: how far a cursor may go without ever skipping an event.

Writers take log positions (`seq`) concurrently, so a position can be stored after a higher
one (two writers of one user, a crash between a write and its filler). A cursor handed out
past a position that is still empty would skip whatever lands there later. The rule: the
visible head is the highest position with every lower one stored. A writer fills every
position it left unused with a filler; a position that stays empty while a higher one has
been stored for longer than the hole bound belongs to a writer that will never fill it, so
whoever finds it fills it (a filler landing on a real event changes nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["LogHead", "visible_head"]


@dataclass(frozen=True, slots=True)
class LogHead:
    """The visible head `seq`, provided the finder first fills the positions in `fill`."""

    seq: int
    fill: tuple[int, ...] = ()


def visible_head(
    known: int,
    upto: int,
    stored: Mapping[int, datetime],
    now: datetime,
    hole_bound: timedelta,
) -> LogHead:
    """The highest position at most `upto` with every lower one stored (or filled first).

    `known` is a position with every lower one known to be stored; `stored` maps the stored
    positions above it to when each was written. An empty position is a hole once a higher
    one is stored, and has been one since the earliest write above it; a hole older than
    `hole_bound` is stale: stale holes are returned to fill and the head passes them. The
    first young hole (or the first empty position with nothing stored above it) stops the
    head. Storing more never lowers the head: a hole only ages.
    """
    above = sorted(seq for seq in stored if known < seq <= upto)
    earliest_from: dict[int, datetime] = {}
    earliest: datetime | None = None
    for seq in reversed(above):
        earliest = stored[seq] if earliest is None else min(earliest, stored[seq])
        earliest_from[seq] = earliest
    fill: list[int] = []
    head = known
    for next_stored in above:
        if next_stored > head + 1 and now - earliest_from[next_stored] < hole_bound:
            break
        fill.extend(range(head + 1, next_stored))
        head = next_stored
    return LogHead(head, tuple(fill))
