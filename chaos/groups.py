"""The consumer-group torture (`python -m chaos --phase groups`): many consumers, one zombie.

On the embedded broker: 12 partitions, 4 projectors and 2 retry workers sharing the load's
users. Mid-run one projector is frozen (SIGSTOP) past its session timeout, so the group
gives its partitions to the others, then resumed with the batch it held: a zombie. Tansu
cannot add partitions (no CreatePartitions), so growth mid-run is reported as skipped.
Then the invariants: every accepted event stored once, every snapshot equal to the fold of
its log, and every device that followed `since` got every event of its user exactly once.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from chaos.devices import Device
from chaos.ledger import Ledger
from chaos.load import Load
from chaos.logscan import error_causes
from chaos.stack import ChaosStack, start_stack
from chaos.traffic import EventMaker
from chaos.verify import settle, verify
from shared.adapters.topic_admin import TopicsMisconfigured, grow_topics

__all__ = ["GROUP_PROCESSES", "group_campaign", "group_failures", "start_group_stack"]

PARTITIONS = 12
_PROJECTORS = 4
_RETRY_WORKERS = 2
_SESSION_MS = 6_000
_HEARTBEAT_MS = 1_000
_ZOMBIE = "projector-1"
_DEVICES = 6
_SEP = "\x1f"

GROUP_PROCESSES = {
    "gateway": "gateway",
    **{f"projector-{n}": "projector" for n in range(1, _PROJECTORS + 1)},
    **{f"retry-worker-{n}": "retry-worker" for n in range(1, _RETRY_WORKERS + 1)},
}


def start_group_stack(data_dir: Path) -> ChaosStack:
    """The stack of the torture: 12 partitions and a short group session, many consumers."""
    return start_stack(
        data_dir,
        GROUP_PROCESSES,
        {
            "kafka_partitions": PARTITIONS,
            "consumer_session_timeout_ms": _SESSION_MS,
            "consumer_heartbeat_interval_ms": _HEARTBEAT_MS,
        },
    )


async def group_campaign(stack: ChaosStack, args: Any) -> dict[str, Any]:
    """Load with devices following, freeze and resume a projector, then judge."""
    rng = random.Random(args.seed)
    ledger = Ledger()
    users = [f"group-{n:02d}" for n in range(args.users)]
    maker = EventMaker(rng, args.late_share, run_id=f"g{args.seed}")
    load = Load(stack.gateway_url, ledger, maker, rng, users, args.rate, args.resend_share)
    devices = [Device(stack.gateway_url, user) for user in users[:_DEVICES]]
    done, settled_down = asyncio.Event(), asyncio.Event()
    writing = asyncio.create_task(load.run(done))
    following = [asyncio.create_task(device.follow(settled_down)) for device in devices]
    freeze, quarter = _SESSION_MS / 1000 + 4.0, args.duration / 4
    await asyncio.sleep(quarter)
    stack.services[_ZOMBIE].signal(signal.SIGSTOP)
    await asyncio.sleep(freeze)
    stack.services[_ZOMBIE].signal(signal.SIGCONT)
    growth = await _grow(stack)
    await asyncio.sleep(max(0.0, args.duration - quarter - freeze))
    done.set()
    await writing
    await load.flush(time.monotonic() + 30.0)
    mongo, database = stack.settings.mongo_url, stack.settings.mongo_database
    settled = await settle(mongo, database, set(ledger.accepted), 5.0, args.settle_timeout)
    settled_down.set()  # devices read on until the server says nothing is left
    await asyncio.gather(*following)
    verdict = await asyncio.to_thread(verify, mongo, database, dict(ledger.accepted))
    stored = await asyncio.to_thread(_stored_ids, mongo, database)
    judged = {device.user: device.judge(stored.get(device.user, set())) for device in devices}
    return {
        "ledger": ledger.as_dict(),
        "load": load.as_dict(),
        "groups": {
            "partitions": PARTITIONS,
            "projectors": _PROJECTORS,
            "retry_workers": _RETRY_WORKERS,
            "session_timeout_ms": _SESSION_MS,
            "zombie": _ZOMBIE,
            "frozen_seconds": freeze,
            "growth": growth,
            "log_lines": _group_lines(stack.logs),
        },
        "devices": _summary(judged),
        "settle": settled,
        "check": verdict.as_dict(),
        "service_errors": error_causes(stack.logs),
    }


async def _grow(stack: ChaosStack) -> str:
    """Grow every topic mid-run where the broker can; say what happened."""
    try:
        grown = await grow_topics(stack.settings, PARTITIONS * 2)
    except TopicsMisconfigured as refused:
        return f"skipped: {refused}"
    return f"grew {len(grown)} topics to {PARTITIONS * 2} partitions"


def _stored_ids(mongo_url: str, database: str) -> dict[str, set[str]]:
    """Each user's stored eventIds, from the log."""
    found: dict[str, set[str]] = {}
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url, serverSelectionTimeoutMS=10_000)
    with client:
        for document in client[database].events.find({}, {"_id": 1}):
            _, user, event_id = document["_id"].split(_SEP, 2)
            found.setdefault(user, set()).add(event_id)
    return found


def _summary(judged: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "devices": len(judged),
        "received": sum(item["received"] for item in judged.values()),
        "missed": sum(len(item["missed"]) for item in judged.values()),
        "twice": sum(len(item["twice"]) for item in judged.values()),
        "unknown": sum(len(item["unknown"]) for item in judged.values()),
        "pages": sum(item["pages"] for item in judged.values()),
        "samples": {
            user: {key: item[key][:5] for key in ("missed", "twice", "unknown")}
            for user, item in judged.items()
            if item["missed"] or item["twice"] or item["unknown"]
        },
    }


def _group_lines(logs: Path) -> dict[str, int]:
    """How often the consumers logged revocations, assignments and dropped work."""
    wanted = ("partitions_revoked", "partitions_assigned", "revoked_partition_work_dropped")
    counts = dict.fromkeys(wanted, 0)
    for path in logs.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            for name in wanted:
                if f'"{name}"' in line:
                    counts[name] += 1
    return counts


def group_failures(report: dict[str, Any]) -> list[str]:
    """What broke the torture's invariants (empty: they held)."""
    reasons: list[str] = []
    check, devices = report["check"], report["devices"]
    if not report["settle"]["settled"]:
        reasons.append(f"the consumers did not settle: {report['settle']}")
    for name in ("lost", "doubled", "snapshots_mismatched", "seq_collisions"):
        if check[name]:
            reasons.append(f"{name}: {check[name]}")
    for name in ("missed", "twice", "unknown"):
        if devices[name]:
            reasons.append(f"devices {name} {devices[name]} events")
    return reasons
