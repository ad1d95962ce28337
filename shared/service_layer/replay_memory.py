"""Stretches of logs a projector replayed lately: the next replay reads only what came after.

A late event makes the projector reduce the user's log again (`replay`), and a device that
syncs a backlog from offline sends many late events for one user, batch after batch: each
replay read the user's whole log from the database again. The chaos campaign showed what
that costs: with 20 busy users and 5 % late events, every batch re-read about 20 logs of
several hundred entries, and the database fell minutes behind.

What is kept is only what can never change: the entries of the positions `start+1..upto`
where `upto` is at most the log's visible head (every position up to it is taken, by an
entry or a filler, so nothing can still land there). Erasing a user removes their log, so
a stretch is dropped when the user is swept as erased, when their stored snapshot stands
below it, and when the log no longer holds the stretch's last entry (checked on every use,
in the same read that fetches what came after).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.service_layer.log_entries import LogEntry
from shared.service_layer.user_keys import UserKey

__all__ = ["LogStretch", "ReplayMemory"]


@dataclass(frozen=True, slots=True)
class LogStretch:
    """Every entry of one user's log at the positions `start+1..upto` (fillers aside)."""

    start: int
    upto: int
    entries: tuple[LogEntry, ...]

    @property
    def last(self) -> LogEntry:
        """The entry at the highest position held (checked against the log on each use)."""
        return self.entries[-1]

    def after(self, seq: int) -> list[LogEntry]:
        """The entries held above `seq`."""
        return [entry for entry in self.entries if entry.seq > seq]


class ReplayMemory:
    """Per user, the latest final stretch of their log, within a budget of entries (LRU)."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held = 0
        self._stretches: OrderedDict[UserKey, LogStretch] = OrderedDict()

    def covering(self, key: UserKey, above: int) -> LogStretch | None:
        """The user's stretch if it holds every entry from just above `above` on."""
        stretch = self._stretches.get(key)
        if stretch is None or stretch.start > above:
            return None
        self._stretches.move_to_end(key)
        return stretch

    def keep(self, key: UserKey, start: int, entries: Sequence[LogEntry], head: int) -> None:
        """Remember `entries`, the log right after `start`, up to its visible `head`."""
        held = tuple(entry for entry in entries if entry.seq <= head)
        self.forget([key])
        if not held or len(held) > self._budget:
            return
        self._stretches[key] = LogStretch(start, head, held)
        self._held += len(held)
        while self._held > self._budget:
            _, dropped = self._stretches.popitem(last=False)
            self._held -= len(dropped.entries)

    def forget(self, keys: Iterable[UserKey]) -> None:
        """Drop these users' stretches (erased, or their log no longer matches)."""
        for key in keys:
            dropped = self._stretches.pop(key, None)
            if dropped is not None:
                self._held -= len(dropped.entries)

    def forget_above(self, positions: Iterable[tuple[UserKey, int]]) -> None:
        """Drop the stretch of each user whose stored snapshot stands below its last entry.

        A projector keeps a stretch only of a log it applies, so a snapshot below the
        stretch means the log was erased and begun again.
        """
        self.forget(
            key
            for key, seq in positions
            if (stretch := self._stretches.get(key)) is not None and seq < stretch.last.seq
        )
