"""The `peer` section: this project's projector and a Quix Streams peer drain the same events.

One lab (broker, database server); the events are published once, then each drain reads
the topic from its start in a fresh consumer group, into its own database: the projector
(`bench.projection.drain`), then the peer (`python -m bench.peer` in its own venv) with
Quix's default at-least-once guarantee, then the peer with exactly-once (a figure beside it:
Quix's transactions cover its changelog and offsets, not the MongoDB sink). Each peer's
snapshots must equal the projector's for every user before its figures count.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Sizes, db_counters
from bench.process_cpu import cpu_seconds, per_event_ms
from bench.projection import Drain, check_converged, drain, stored_snapshots
from shared.domain import RecordedEvent
from tests.support.projector import ProjectorLab, learner_events, projector_lab

__all__ = ["PEER_PYTHON", "peer_drain", "run"]

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = ROOT / "var" / "peer-venv" / "bin" / "python"
"""The peer's interpreter: `make bench` installs requirements-peer.lock there."""

COMMIT_INTERVAL_SECONDS = 1.0
"""The peer's checkpoint interval (Quix's default is 5 s): its sink writes at checkpoints, so
the last of a drain's snapshots lands up to one interval after its last event is folded."""

_START_SECONDS = 120.0
_DRAIN_TIMEOUT_SECONDS = 900.0
_POLL_SECONDS = 0.1

GUARANTEES = {
    "at-least-once": (
        "at-least-once (Quix's default): the sink writes at each checkpoint, then the offsets "
        "are committed; a crash in between delivers the batch again. No event log, no "
        "exactly-once effect: the events live only in the peer's state store"
    ),
    "exactly-once": (
        "exactly-once in Kafka only: its state changelog and offsets commit in one "
        "transaction; the MongoDB sink stays at-least-once (a crash after its write and "
        "before the commit writes the batch again)"
    ),
}


def _written(mark: Path) -> int:
    """The snapshot documents the peer's sink has written so far (one per event folded)."""
    return int(mark.read_text()) if mark.exists() else 0


def _peer_process(
    lab: ProjectorLab, run: Drain, guarantee: str, workdir: Path
) -> subprocess.Popen[bytes]:
    settings = lab.settings
    argv = [
        str(PEER_PYTHON),
        "-m",
        "bench.peer",
        "--kafka",
        ",".join(settings.kafka_servers),
        "--mongo-url",
        settings.mongo_url,
        "--database",
        run.database,
        "--group",
        run.group,
        "--state-dir",
        str(workdir / "state"),
        "--first",
        str(workdir / "first.json"),
        "--written",
        str(workdir / "written"),
        "--commit-interval",
        str(COMMIT_INTERVAL_SECONDS),
        "--guarantee",
        guarantee,
        "--session-timeout-ms",
        str(settings.consumer_session_timeout_ms),
        "--heartbeat-interval-ms",
        str(settings.consumer_heartbeat_interval_ms),
    ]
    with (lab.logs / f"{run.name}.log").open("ab") as log:
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )


def _exited(process: subprocess.Popen[bytes], log: Path) -> RuntimeError:
    """The error for a peer that exited mid-drain, with the end of its log (the lab's logs
    go with the lab)."""
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    return RuntimeError(f"{log.stem}: the peer exited with {process.returncode}: {tail}")


def _first_event(process: subprocess.Popen[bytes], mark: Path, log: Path) -> dict[str, float]:
    """The peer's clock and CPU when it folded its first event (it writes them to `mark`)."""
    deadline = time.monotonic() + _START_SECONDS
    while not mark.exists():
        if process.poll() is not None:
            raise _exited(process, log)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{log.stem}: no event folded {_START_SECONDS:.0f} s after start")
        time.sleep(_POLL_SECONDS / 5)
    first: dict[str, float] = json.loads(mark.read_text())
    return first


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Quix stops gracefully), SIGKILL if it has not exited 10 s later."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def peer_drain(
    lab: ProjectorLab, name: str, events: Sequence[RecordedEvent], guarantee: str
) -> dict[str, Any]:
    """Events/s and CPU per event of the peer draining `events`, already on the topic.

    The clock starts when the peer folds its first event (as the projector's starts at its
    first event handled) and stops when its sink has written every event's snapshot; its CPU
    (user + system, from /proc) over the same window. The snapshots are then checked
    against the reduction of the events.
    """
    if not PEER_PYTHON.exists():
        raise RuntimeError(f"{PEER_PYTHON} is missing: `make bench` installs the peer's venv")
    run = Drain(lab, name)
    with tempfile.TemporaryDirectory() as tmp:
        process = _peer_process(lab, run, guarantee, Path(tmp))
        try:
            log = lab.logs / f"{name}.log"
            first = _first_event(process, Path(tmp) / "first.json", log)
            while _written(Path(tmp) / "written") < len(events):
                if process.poll() is not None:
                    raise _exited(process, log)
                if time.monotonic() - first["monotonic"] > _DRAIN_TIMEOUT_SECONDS:
                    raise TimeoutError(f"{name}: {len(events)} events not written in time")
                time.sleep(_POLL_SECONDS)
            elapsed = time.monotonic() - first["monotonic"]
            cpu = cpu_seconds(process.pid) - first["cpu_seconds"]
            check_converged(run, events)
        finally:
            _stop(process)
    counters = db_counters(lab.settings.mongo_url, run.database)
    return {
        "events": len(events),
        "guarantee": guarantee,
        "delivery": GUARANTEES[guarantee],
        "commit_interval_seconds": COMMIT_INTERVAL_SECONDS,
        "events_per_second": len(events) / elapsed,
        "cpu_ms_per_event": per_event_ms(cpu, len(events)),
        "write_commands_per_event": counters.writes / len(events),
        "db": counters.as_dict(),
    }


def _same_as(lab: ProjectorLab, database: str, projector_database: str, name: str) -> None:
    """Raise unless the peer's snapshots equal the projector's, user by user."""
    peer = stored_snapshots(lab, database)
    projector = stored_snapshots(lab, projector_database)
    differing = sorted(user for user in projector if peer.get(user) != projector[user])
    if differing or peer.keys() != projector.keys():
        raise RuntimeError(
            f"{name}: {len(differing)} of {len(projector)} snapshots differ from the "
            f"projector's (first: {differing[:3]}), {len(peer)} stored"
        )


def run(sizes: Sizes) -> dict[str, Any]:
    """The projector's and the peer's drains of the same events, and the check they agree."""
    users = sizes.projection_users
    events = learner_events(users, sizes.projection_events // users, seed=1, prefix="p")
    with tempfile.TemporaryDirectory() as tmp, projector_lab(Path(tmp)) as lab:
        lab.publish(events)
        projector_run = Drain(lab, "peer_projector")
        projector = drain(projector_run, events, publish=False)
        peers: dict[str, Any] = {}
        for guarantee, name in (("at-least-once", "quix"), ("exactly-once", "quix_eos")):
            peers[guarantee] = peer_drain(lab, name, events, guarantee)
            _same_as(lab, Drain(lab, name).database, projector_run.database, name)
    return {
        "events": len(events),
        "users": users,
        "projector": projector,
        "quix": peers["at-least-once"],
        "quix_exactly_once": peers["exactly-once"],
    }
