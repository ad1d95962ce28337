"""`python -m bench.peer`: the projector's reduction as a Quix Streams application.

What a Python team would write instead of the projector: a Quix `Application` consuming
`progress.events` (keyed `tenantId/userId`, so state is per user), a stateful `apply` that
folds each event onto the user's snapshot in Quix state (`folding.fold_message`, the
domain's rules), and Quix's `MongoDBSink` replacing the user's snapshot document.

Runs in its own venv (var/peer-venv, requirements-peer.lock), with the repository on
PYTHONPATH: `make bench` creates it. It writes `--first` (JSON: the monotonic clock and this
process's CPU seconds) when it folds its first event, so the bench's clock starts where the
projector's does, at the first event handled, not at the group join; and `--written`, the
count of snapshot documents its sink has written (one per event folded), after each write.

The consumer's session and heartbeat come from the bench (the projector's): Tansu answers a
JoinGroup after half the session, and librdkafka's default session is 45 s.

Delivery: Quix's default, at-least-once. The sink writes at each checkpoint, then the
offsets are committed; a crash between the two delivers the batch again, and the state
(changelog-backed) may already hold its events: they are dropped as repeats and their
snapshot documents are not written again, the earlier write stands. Nothing is appended to
an event log: the peer keeps events only in its state store.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from quixstreams import Application, State
from quixstreams.sinks import SinkBatch
from quixstreams.sinks.community.mongodb import MongoDBSink

from bench.peer.folding import fold_message
from bench.process_cpu import cpu_seconds
from shared.adapters.mongo import SNAPSHOTS
from shared.adapters.topics import EVENTS_TOPIC


def _write_mark(path: Path, text: str) -> None:
    """Replace `path` by `text` at once: the bench never reads half a mark."""
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(path)


class _FirstEvent:
    """Writes the clock and CPU to `path` once, when the first event is folded."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._done = False

    def __call__(self, value: bytes, state: State[str, Any]) -> dict[str, Any] | None:
        if not self._done:
            self._done = True
            moment = {"monotonic": time.monotonic(), "cpu_seconds": cpu_seconds(os.getpid())}
            _write_mark(self._path, json.dumps(moment))
        return fold_message(value, state)


class _CountedMongoDBSink(MongoDBSink):
    """Quix's MongoDB sink, writing how many documents it has written to `path` after each
    batch: the bench reads that file, not the database, to see the drain end."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(**options)
        self._path = path
        self._written = 0

    def write(self, batch: SinkBatch) -> None:
        super().write(batch)
        self._written += batch.size
        _write_mark(self._path, str(self._written))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kafka", required=True, help="bootstrap servers, host:port[,...]")
    parser.add_argument("--mongo-url", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--group", required=True, help="the consumer group")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--first", type=Path, required=True, help="where the first-event mark goes")
    parser.add_argument("--written", type=Path, required=True, help="where the written count goes")
    parser.add_argument("--commit-interval", type=float, default=1.0, help="seconds per checkpoint")
    parser.add_argument(
        "--guarantee", choices=("at-least-once", "exactly-once"), default="at-least-once"
    )
    parser.add_argument("--session-timeout-ms", type=int, default=10_000)
    parser.add_argument("--heartbeat-interval-ms", type=int, default=3_000)
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    app = Application(
        broker_address=args.kafka,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        state_dir=args.state_dir,
        commit_interval=args.commit_interval,
        processing_guarantee=args.guarantee,
        consumer_extra_config={
            "session.timeout.ms": args.session_timeout_ms,
            "heartbeat.interval.ms": args.heartbeat_interval_ms,
        },
    )
    topic = app.topic(EVENTS_TOPIC, key_deserializer="bytes", value_deserializer="bytes")
    mongo = urlsplit(args.mongo_url)
    sink = _CountedMongoDBSink(
        args.written,
        host=mongo.hostname or "127.0.0.1",
        port=mongo.port or 27017,
        db=args.database,
        collection=SNAPSHOTS,
        update_method="ReplaceOne",
        document_matcher=lambda item: {"_id": item.value["_id"]},
        tz_aware=True,
    )
    frame = app.dataframe(topic).apply(_FirstEvent(args.first), stateful=True)
    frame.filter(lambda document: document is not None).sink(sink)
    app.run()


if __name__ == "__main__":
    main()
