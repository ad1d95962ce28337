"""In-memory fakes of the storage ports, held to the same contract tests as MongoDB's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.service_layer.ports import (
    AppendResult,
    LogEntry,
    SnapshotUpdate,
    StoredSnapshot,
    UserKey,
)


class InMemoryEventLog:
    """An event log in a dict: unique eventId and unique seq per user, like the real one."""

    def __init__(self) -> None:
        self.entries: dict[UserKey, dict[str, LogEntry]] = {}

    async def append(self, entries: Sequence[LogEntry]) -> AppendResult:
        result = AppendResult()
        for entry in entries:
            key = (entry.event.tenant_id, entry.event.user_id)
            user_log = self.entries.setdefault(key, {})
            if entry.event.event_id in user_log:
                result.duplicates.append(entry)
            elif any(stored.seq == entry.seq for stored in user_log.values()):
                result.collisions.append(entry)
            else:
                user_log[entry.event.event_id] = entry
                result.inserted.append(entry)
        return result

    async def find_many(
        self, event_ids: Mapping[UserKey, Sequence[str]]
    ) -> dict[UserKey, dict[str, LogEntry]]:
        found: dict[UserKey, dict[str, LogEntry]] = {}
        for key, ids in event_ids.items():
            user_log = self.entries.get(key, {})
            entries = {event_id: user_log[event_id] for event_id in ids if event_id in user_log}
            if entries:
                found[key] = entries
        return found

    async def after(self, positions: Mapping[UserKey, int]) -> dict[UserKey, list[LogEntry]]:
        found: dict[UserKey, list[LogEntry]] = {}
        for key, seq in positions.items():
            later = sorted(
                (e for e in self.entries.get(key, {}).values() if e.seq > seq), key=lambda e: e.seq
            )
            if later:
                found[key] = later
        return found

    async def page(self, key: UserKey, after_seq: int, upto_seq: int, limit: int) -> list[LogEntry]:
        entries = sorted(self.entries.get(key, {}).values(), key=lambda e: e.seq)
        return [e for e in entries if after_seq < e.seq <= upto_seq][:limit]


class InMemorySnapshotStore:
    """Snapshots in a dict, with the same optimistic check on the applied seq."""

    def __init__(self) -> None:
        self.snapshots: dict[UserKey, StoredSnapshot] = {}

    async def load_many(self, keys: Sequence[UserKey]) -> dict[UserKey, StoredSnapshot]:
        return {key: self.snapshots[key] for key in keys if key in self.snapshots}

    async def save_many(self, updates: Sequence[SnapshotUpdate]) -> set[UserKey]:
        stale: set[UserKey] = set()
        for update in updates:
            current = self.snapshots.get(update.key)
            if (current.seq if current else 0) != update.expected_seq:
                stale.add(update.key)
                continue
            self.snapshots[update.key] = StoredSnapshot(update.snapshot, update.seq)
        return stale
