"""The invariant, read straight from MongoDB once the projector has settled.

1. Every event the gateway accepted is in `events` exactly once (`_id` is
   tenant, user and eventId joined by the unit separator; the body's own ids must agree with it).
2. Every user's stored snapshot (`snapshots.state`) equals `shared.domain.reduce` of that
   user's log: the pure fold is the judge, whatever order and however often events came.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient

from chaos.ledger import Key
from shared.adapters.in_queries import slices
from shared.domain import RecordedEvent, Snapshot, reduce

__all__ = ["Verdict", "settle", "verify"]

_TENANT = "demo"
_SEP = "\x1f"
_SAMPLES = 20


def _client(mongo_url: str) -> MongoClient[dict[str, Any]]:
    return MongoClient(mongo_url, serverSelectionTimeoutMS=10_000, socketTimeoutMS=60_000)


def _signature(
    mongo_url: str, database: str, waiting: set[Key]
) -> tuple[set[Key], tuple[int, int, int]]:
    """Which of the `waiting` events are stored now, and a cheap sign of whether anything moved.

    Looks the waiting events up by `_id`, a slice at a time, rather than listing the
    tenant's whole log: SecantusDB serves every command under one lock, and a scan of every
    event once a second starved the projector it was waiting for.
    """
    ids = [_SEP.join((_TENANT, user, event_id)) for user, event_id in waiting]
    stored: set[Key] = set()
    with _client(mongo_url) as client:
        db = client[database]
        for part in slices(ids):
            found = db.events.find({"_id": {"$in": part}}, {"_id": 1})
            stored.update(_key(doc["_id"]) for doc in found)
        seqs = sum(doc.get("s", 0) for doc in db.snapshots.find({"t": _TENANT}, {"s": 1}))
        letters = db.dead_letters.estimated_document_count()
        entries = db.events.estimated_document_count()
    return stored, (entries, seqs, letters)


def _key(document_id: str) -> Key:
    _, user, event_id = document_id.split(_SEP, 2)
    return user, event_id


async def settle(
    mongo_url: str, database: str, accepted: set[Key], quiet: float, limit: float
) -> dict[str, Any]:
    """Wait until every accepted event is stored and nothing moved for `quiet` seconds.

    Gives up after `limit` seconds (events parked in the 60 s retry tier may need that
    long); the verdict then shows what was still missing.
    """
    started = time.monotonic()
    last: tuple[int, int, int] | None = None
    since = started
    missing = len(accepted)
    waiting = set(accepted)
    while time.monotonic() - started < limit:
        stored, signature = await asyncio.to_thread(_signature, mongo_url, database, waiting)
        waiting -= stored
        missing = len(waiting)
        now = time.monotonic()
        if signature != last:
            last, since = signature, now
        elif missing == 0 and now - since >= quiet:
            return {"settled": True, "seconds": round(now - started, 1)}
        await asyncio.sleep(1.0)
    return {"settled": False, "seconds": round(time.monotonic() - started, 1), "missing": missing}


@dataclass
class Verdict:
    """What the database holds, measured against the ledger and the reducer."""

    stored: int = 0
    lost: list[Key] = field(default_factory=list)
    lost_by_source: Counter[str] = field(default_factory=Counter)
    dead_lettered: int = 0
    doubled: list[Key] = field(default_factory=list)
    seq_collisions: int = 0
    unreadable_log_entries: int = 0
    users_checked: int = 0
    mismatched: dict[str, str] = field(default_factory=dict)
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary, with a few samples of each problem."""
        return {
            "events_stored": self.stored,
            "lost": len(self.lost),
            "lost_by_source": dict(self.lost_by_source),
            "lost_of_which_dead_lettered": self.dead_lettered,
            "lost_samples": [list(key) for key in self.lost[:_SAMPLES]],
            "doubled": len(self.doubled),
            "doubled_samples": [list(key) for key in self.doubled[:_SAMPLES]],
            "seq_collisions": self.seq_collisions,
            "unreadable_log_entries": self.unreadable_log_entries,
            "users_checked": self.users_checked,
            "snapshots_mismatched": len(self.mismatched),
            "mismatch_samples": dict(list(self.mismatched.items())[:_SAMPLES]),
            "dead_letters_by_reason": dict(self.dead_letter_reasons.most_common(20)),
        }


def verify(mongo_url: str, database: str, accepted: dict[Key, str]) -> Verdict:
    """Check both invariants for every accepted event and every user of the tenant.

    Reads the log one user at a time on the (t, u, s) index: one read of the whole tenant
    made SecantusDB gather every entry before its first answer, past the client's timeout,
    while the projector it shares a lock with was still catching up.
    """
    verdict = Verdict()
    logs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    occurrences: Counter[Key] = Counter()
    with _client(mongo_url) as client:
        db = client[database]
        snapshots = {doc["u"]: doc["state"] for doc in db.snapshots.find({"t": _TENANT})}
        for user in sorted({user for user, _ in accepted} | set(snapshots)):
            for document in db.events.find({"t": _TENANT, "u": user}):
                if "f" in document:
                    continue  # a filler: a log position no event took, never an event
                verdict.stored += 1
                stored_user, event_id = _key(document["_id"])
                occurrences[(stored_user, event_id)] += 1
                logs[stored_user].append((document["s"], document["body"]))
                body_key = _body_key(document["body"])
                if body_key is not None and body_key != (stored_user, event_id):
                    occurrences[body_key] += 1
        letters = {
            (doc.get("user"), doc.get("eventId")): str(doc.get("reason", ""))[:80]
            for doc in db.dead_letters.find({})
        }
    verdict.dead_letter_reasons = Counter(letters.values())
    verdict.lost = sorted(key for key in accepted if key not in occurrences)
    verdict.lost_by_source = Counter(accepted[key] for key in verdict.lost)
    verdict.dead_lettered = sum(1 for key in verdict.lost if key in letters)
    verdict.doubled = sorted(key for key, count in occurrences.items() if count > 1)
    for user in sorted(set(logs) | set(snapshots)):
        verdict.users_checked += 1
        problem = _check_user(user, logs.get(user, []), snapshots.get(user), verdict)
        if problem is not None:
            verdict.mismatched[user] = problem
    return verdict


def _body_key(body: str) -> Key | None:
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(decoded, dict):
        return None
    return str(decoded.get("userId")), str(decoded.get("eventId"))


def _check_user(
    user: str, log: list[tuple[int, str]], state: str | None, verdict: Verdict
) -> str | None:
    log.sort()
    seqs = [seq for seq, _ in log]
    verdict.seq_collisions += len(seqs) - len(set(seqs))
    events: list[RecordedEvent] = []
    for _, body in log:
        try:
            events.append(RecordedEvent.from_json(body))
        except Exception:
            verdict.unreadable_log_entries += 1
    try:
        expected = reduce(events, tenant_id=_TENANT, user_id=user)
    except Exception as error:
        return f"the reducer fails on the log: {type(error).__name__}: {str(error)[:200]}"
    if state is None:
        return None if not events else f"no snapshot for {len(events)} logged events"
    try:
        stored = Snapshot.from_storage(state)
    except Exception as error:
        return f"snapshot unreadable: {type(error).__name__}: {str(error)[:200]}"
    if stored == expected:
        return None
    return "differs from reduce(log) in " + ", ".join(_differences(stored, expected))


def _differences(stored: Snapshot, expected: Snapshot) -> list[str]:
    left, right = stored.model_dump(mode="json"), expected.model_dump(mode="json")
    fields = [name for name in sorted(set(left) | set(right)) if left.get(name) != right.get(name)]
    items = [
        item
        for item in sorted(set(left.get("items", {})) | set(right.get("items", {})))
        if left["items"].get(item) != right["items"].get(item)
    ]
    shown = [f"{name} ({left.get(name)!r:.60} != {right.get(name)!r:.60})" for name in fields]
    if items:
        shown.append(f"items {items[:5]}")
    return shown
