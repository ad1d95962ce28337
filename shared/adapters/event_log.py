"""The MongoDB event log: `events`, one document per (tenant, user, eventId), and fillers.

A filler holds a log position that no event will take (see `shared.domain.log_head`): it has
no event, is never served or counted, and only moves the log's visible head past its place.
`log_heads` keeps per user a position with every lower one stored, so finding the head
looks only at what was written since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.adapters.causal_reads import read_session
from shared.adapters.clock import SystemClock
from shared.adapters.in_queries import find_in, slices
from shared.adapters.logs import get_logger
from shared.adapters.metrics import LOG_HOLES_FILLED
from shared.adapters.mongo import (
    DUPLICATE_KEY,
    EVENTS,
    LOG_HEADS,
    Document,
    driver_errors,
    refused_entries,
    unjournaled,
    user_key,
)
from shared.domain import RecordedEvent, visible_head
from shared.service_layer.log_entries import AppendResult, LogEntry
from shared.service_layer.ports import Clock
from shared.service_layer.user_keys import UserKey

__all__ = ["MongoEventLog"]

_FILLER = "f"
"""The field only fillers carry. Reads drop them client-side: SecantusDB answers any query with
a predicate beside the (t, u, s) index by scanning the whole collection (0.8 s over 4,000
entries, against 20 ms), and fillers are few."""

_UNKNOWN_AGE = datetime.min.replace(tzinfo=UTC)
"""When an entry stored before write times were kept was written: long ago."""

log = get_logger(__name__)


def _to_document(entry: LogEntry, now: datetime) -> Document:
    event = entry.event
    return {
        "_id": user_key(event.tenant_id, event.user_id, event.event_id),
        "t": event.tenant_id,
        "u": event.user_id,
        "s": entry.seq,
        "w": now,
        "type": event.type,
        "at": event.occurred_at,
        "body": event.to_json().decode(),
    }


def _filler(key: UserKey, seq: int, now: datetime) -> Document:
    """A filler at `seq`; its `_id` has a space, which no eventId has, so it never meets one."""
    return {
        "_id": user_key(*key, f"filler {seq}"),
        "t": key[0],
        "u": key[1],
        "s": seq,
        "f": 1,
        "w": now,
    }


def _from_document(document: Document) -> LogEntry:
    return LogEntry(seq=document["s"], event=RecordedEvent.from_json(document["body"]))


class MongoEventLog:
    """Event log on MongoDB. The `_id` makes eventIds unique per user; (t, u, s) orders them.

    The event itself is stored as its JSON text in `body`, so no ID or client-supplied key
    ever becomes a MongoDB field name or operator.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        hole_bound: timedelta = timedelta(seconds=10),
        clock: Clock | None = None,
    ) -> None:
        self._events = db[EVENTS]
        # A recorded head is a hint: one lost to a crash is found again from the log, so
        # recording it (on reads) does not wait for the journal.
        self._heads = unjournaled(db, LOG_HEADS)
        self._hole_bound = hole_bound
        self._clock = clock or SystemClock()
        """When an entry was written, and so how old a hole is (`hole_bound`)."""

    async def append(self, entries: Sequence[LogEntry]) -> AppendResult:
        """Insert all entries in one unordered bulk write; sort out what the server refused.

        A duplicate-key refusal is a duplicate when the log holds the entry's eventId when
        read again, else a seq collision: decided by re-reading, not by the error's shape
        (`keyPattern` is missing from some servers' errors).
        """
        result = AppendResult()
        if not entries:
            return result
        failed: dict[int, dict[str, Any]] = {}
        now = self._clock.now()
        async with driver_errors():
            try:
                await self._events.insert_many(
                    [_to_document(e, now) for e in entries], ordered=False
                )
            except BulkWriteError as error:
                failed = refused_entries(error)
        taken: dict[UserKey, list[str]] = {}
        for index, refusal in failed.items():
            if refusal.get("code") == DUPLICATE_KEY:
                event = entries[index].event
                taken.setdefault((event.tenant_id, event.user_id), []).append(event.event_id)
        stored = await self.find_many(taken)
        for index, entry in enumerate(entries):
            event = entry.event
            if (problem := failed.get(index)) is None:
                result.inserted.append(entry)
            elif problem.get("code") != DUPLICATE_KEY:
                result.rejected.append((entry, str(problem.get("errmsg", "rejected"))))
            elif event.event_id in stored.get((event.tenant_id, event.user_id), {}):
                result.duplicates.append(entry)
            else:
                result.collisions.append(entry)
        return result

    async def fill(self, positions: Mapping[UserKey, Sequence[int]]) -> int:
        """Put a filler at each position its writer left unused; return how many it wrote."""
        filled = await self._fill(positions)
        LOG_HOLES_FILLED.labels("writer").inc(filled)
        return filled

    async def _fill(self, positions: Mapping[UserKey, Sequence[int]]) -> int:
        """Insert fillers; a position already taken (the real entry landed) is left as it is."""
        now = self._clock.now()
        fillers = [_filler(key, seq, now) for key, seqs in positions.items() for seq in seqs]
        if not fillers:
            return 0
        async with driver_errors():
            try:
                await self._events.insert_many(fillers, ordered=False, session=read_session())
            except BulkWriteError as error:
                refused = refused_entries(error)
                if any(item.get("code") != DUPLICATE_KEY for item in refused.values()):
                    raise
                return len(fillers) - len(refused)
        return len(fillers)

    async def visible_head(self, key: UserKey, upto: int) -> int:
        """The highest position at most `upto` with every lower one stored.

        Looks at the positions above the user's recorded head only; fills each hole older
        than the hole bound it meets (logged and counted), and records the head it found.
        """
        tenant, user = key
        mark_id = user_key(tenant, user)
        async with driver_errors():
            mark = await self._heads.find_one({"_id": mark_id}, session=read_session())
            known = min(int(mark["h"]), upto) if mark else 0
            if known >= upto:
                return upto
            query = {"t": tenant, "u": user, "s": {"$gt": known, "$lte": upto}}
            documents = await self._events.find(
                query, {"_id": 0, "s": 1, "w": 1}, session=read_session()
            ).to_list()
        written = {d["s"]: d.get("w", _UNKNOWN_AGE) for d in documents}
        head = visible_head(known, upto, written, self._clock.now(), self._hole_bound)
        if head.fill:
            filled = await self._fill({key: head.fill})
            LOG_HOLES_FILLED.labels("finder").inc(filled)
            log.warning(
                "log_holes_filled",
                tenant=tenant,
                holes=len(head.fill),
                filled=filled,
                head=head.seq,
            )
        if head.seq > known:
            update = {"$max": {"h": head.seq}, "$set": {"t": tenant, "u": user}}
            # A concurrent upsert may win the insert: it recorded a head; the next read, ours.
            async with driver_errors():
                with suppress(DuplicateKeyError):
                    await self._heads.update_one(
                        {"_id": mark_id, "t": tenant, "u": user},
                        update,
                        upsert=True,
                        session=read_session(),
                    )
        return head.seq

    async def find_many(
        self, event_ids: Mapping[UserKey, Sequence[str]]
    ) -> dict[UserKey, dict[str, LogEntry]]:
        """The stored entries for the given eventIds of several users, in one `_id` query."""
        ids = [user_key(*key, event_id) for key, events in event_ids.items() for event_id in events]
        if not ids:
            return {}
        found: dict[UserKey, dict[str, LogEntry]] = {}
        async with driver_errors():
            for document in await find_in(self._events, "_id", ids):
                entry = _from_document(document)
                found.setdefault((document["t"], document["u"]), {})[entry.event.event_id] = entry
        return found

    async def after(self, positions: Mapping[UserKey, int]) -> dict[UserKey, list[LogEntry]]:
        """Entries above each user's position: one query per user on the (t, u, s) index.

        Not one `$or` of all users: SecantusDB answers that by scanning the whole collection
        once per clause (18 s for 200 users over 20,000 entries, against 0.7 ms per user).
        """
        found: dict[UserKey, list[LogEntry]] = {}
        async with driver_errors():
            for (tenant, user), seq in positions.items():
                query = {"t": tenant, "u": user, "s": {"$gt": seq}}
                documents = (
                    await self._events.find(query, session=read_session()).sort("s", 1).to_list()
                )
                entries = [_from_document(d) for d in documents if _FILLER not in d]
                if entries:
                    found[(tenant, user)] = entries
        return found

    async def page(self, key: UserKey, after_seq: int, upto_seq: int, limit: int) -> list[LogEntry]:
        """One page of a user's log in cursor order: `limit` entries, fillers not counted."""
        tenant, user = key
        entries: list[LogEntry] = []
        async with driver_errors():
            while len(entries) < limit:
                wanted = limit - len(entries)
                query = {"t": tenant, "u": user, "s": {"$gt": after_seq, "$lte": upto_seq}}
                found = self._events.find(query, session=read_session())
                documents = await found.sort("s", 1).limit(wanted).to_list()
                entries.extend(_from_document(d) for d in documents if _FILLER not in d)
                if len(documents) < wanted:
                    break
                after_seq = documents[-1]["s"]
        return entries

    async def count(self, key: UserKey, after_seq: int, upto_seq: int) -> int:
        """How many entries lie in a range of the user's log (on the (t, u, s) index)."""
        tenant, user = key
        query = {"t": tenant, "u": user, "s": {"$gt": after_seq, "$lte": upto_seq}}
        async with driver_errors():
            documents = self._events.find(query, {"_id": 0, _FILLER: 1})
            return sum([_FILLER not in document async for document in documents])

    async def of_users(self, tenant: str, users: Sequence[str]) -> dict[UserKey, list[LogEntry]]:
        """The whole logs of several users of one tenant, each in seq order, a slice at a time."""
        found: dict[UserKey, list[LogEntry]] = {}
        async with driver_errors():
            for part in slices(users):
                query = {"t": tenant, "u": {"$in": part}}
                async for document in self._events.find(query).sort([("u", 1), ("s", 1)]):
                    if _FILLER not in document:
                        key = (tenant, document["u"])
                        found.setdefault(key, []).append(_from_document(document))
        return found

    async def users(self, tenant: str | None, user: str | None) -> list[UserKey]:
        """Every user with at least one entry (of one tenant, or one user of it), sorted.

        Fillers need no filtering here: each lies below an entry of its user.
        """
        query: Document = {}
        if tenant is not None:
            query["t"] = tenant
        if user is not None:
            query["u"] = user
        pipeline: list[Document] = [{"$match": query}, {"$group": {"_id": {"t": "$t", "u": "$u"}}}]
        async with driver_errors():
            groups = await (await self._events.aggregate(pipeline)).to_list()
        return sorted((group["_id"]["t"], group["_id"]["u"]) for group in groups)
