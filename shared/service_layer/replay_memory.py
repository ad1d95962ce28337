"""Stretches of logs a projector replayed lately: the next replay reads only what came after.

A late event makes the projector reduce the user's log again (`replay`), and a device that
syncs a backlog from offline sends many late events for one user, batch after batch: each
replay read the user's whole log from the database again. The chaos campaign showed what
that costs: with 20 busy users and 5 % late events, every batch re-read about 20 logs of
several hundred entries, and the database fell minutes behind.

What is kept is only what can never change: a run of positions `first..last` with no gap
(a gap may still be filled by a slower writer, so a stretch ends before one). Erasing a
user removes their log, so a stretch is dropped when the user is swept as erased, when
their stored snapshot stands below it, and when the entry at its end is no longer the one
kept (checked on every use, in the same read that fetches what came after).
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
    """Entries of one user's log at the positions `first..last`, every one of them present."""

    entries: tuple[LogEntry, ...]

    @property
    def first(self) -> int:
        """The lowest position held."""
        return self.entries[0].seq

    @property
    def last(self) -> LogEntry:
        """The entry at the highest position held (checked against the log on each use)."""
        return self.entries[-1]

    def after(self, seq: int) -> list[LogEntry]:
        """The entries held above `seq`."""
        return [entry for entry in self.entries if entry.seq > seq]


class ReplayMemory:
    """Per user, the latest gap-free stretch of their log, within a budget of entries (LRU)."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held = 0
        self._stretches: OrderedDict[UserKey, LogStretch] = OrderedDict()

    def covering(self, key: UserKey, above: int) -> LogStretch | None:
        """The user's stretch if it holds every entry from just above `above` on."""
        stretch = self._stretches.get(key)
        if stretch is None or stretch.first > above + 1:
            return None
        self._stretches.move_to_end(key)
        return stretch

    def keep(self, key: UserKey, above: int, entries: Sequence[LogEntry]) -> None:
        """Remember the gap-free run at the start of `entries`, the log right after `above`."""
        run: list[LogEntry] = []
        expected = above + 1
        for entry in entries:
            if entry.seq != expected:
                break
            run.append(entry)
            expected += 1
        self.forget([key])
        if not run or len(run) > self._budget:
            return
        self._stretches[key] = LogStretch(tuple(run))
        self._held += len(run)
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
        """Drop the stretch of each user whose stored snapshot stands below its end.

        A projector keeps a stretch only of a log it has applied, so a snapshot below the
        stretch means the log was erased and begun again.
        """
        self.forget(
            key
            for key, seq in positions
            if (stretch := self._stretches.get(key)) is not None and seq < stretch.last.seq
        )
