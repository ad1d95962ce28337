"""What every measurement shares: the embedded stack, the database's own write counters,
the services' metrics, percentiles, and the shape of one run (default or FULL).

Write counts come from the database itself: SecantusDB's `top` command counts every
`insert`, `update` and `delete` *command* per namespace (one bulk write of many documents
is one command, as MongoDB's `top` counts it), whoever sent it, with the server time spent.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from chaos.hostile import percentile
from services.progressctl.provisioning import prepare_stack
from shared.adapters.embedded import EmbeddedServer
from shared.adapters.settings import Settings
from tests.support.backends import embedded_backend
from tests.support.services import Stack, metrics_text, running_stack, settings_for

__all__ = [
    "MEASUREMENT_TIMEOUT_MS",
    "WRITE_COMMANDS",
    "DbCounters",
    "Sizes",
    "db_counters",
    "gateway_stack",
    "histogram",
    "histogram_quantile",
    "measuring",
    "percentile",
    "scrape",
    "wait_for",
]

WRITE_COMMANDS = ("insert", "update", "remove")
MEASUREMENT_TIMEOUT_MS = 300_000
"""How long one call of the bench's own clients may take: a measurement's bulk write to a
slow database is slow, not failed (the services keep their own, tighter bounds)."""
_SECTIONS = ("insert", "update", "remove", "queries", "getmore", "commands")


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is: the default run (under 5 minutes) or FULL=1."""

    full: bool
    ingest_seconds: float  # per (events per request, clients) cell
    projection_events: int
    projection_users: int
    naive_events: int
    freshness_seconds: float
    heartbeat_seconds: float
    replay_sizes: tuple[int, ...]
    users_scaling: tuple[tuple[int, int], ...]  # (users, events) per drain
    memory_events: int  # through the whole stack, after the warm-up's RSS reading
    attack_seconds: float  # the shortest window of each attack-mix phase (rest, attacked)

    @classmethod
    def of(cls, full: bool) -> Sizes:
        if full:
            return cls(
                full=True,
                ingest_seconds=10.0,
                projection_events=100_000,
                projection_users=1_000,
                naive_events=5_000,
                freshness_seconds=60.0,
                heartbeat_seconds=60.0,
                replay_sizes=(10, 100, 1_000, 10_000, 100_000),
                users_scaling=((100, 100_000), (10_000, 100_000), (100_000, 100_000)),
                memory_events=1_000_000,
                attack_seconds=30.0,
            )
        return cls(
            full=False,
            ingest_seconds=3.0,
            projection_events=20_000,
            projection_users=1_000,
            naive_events=2_000,
            freshness_seconds=20.0,
            heartbeat_seconds=20.0,
            replay_sizes=(10, 100, 1_000, 3_000),
            users_scaling=((100, 10_000), (10_000, 10_000)),
            memory_events=200_000,
            attack_seconds=10.0,
        )


@dataclass(frozen=True)
class DbCounters:
    """Commands the database executed on one database's collections, and their server time."""

    counts: dict[str, int]
    micros: dict[str, int]

    @property
    def writes(self) -> int:
        """Write commands: insert, update and delete commands (a bulk is one per kind)."""
        return sum(self.counts.get(kind, 0) for kind in WRITE_COMMANDS)

    def __sub__(self, earlier: DbCounters) -> DbCounters:
        return DbCounters(
            {k: v - earlier.counts.get(k, 0) for k, v in self.counts.items()},
            {k: v - earlier.micros.get(k, 0) for k, v in self.micros.items()},
        )

    def as_dict(self) -> dict[str, Any]:
        return {"commands": self.counts, "server_ms": {k: v / 1000 for k, v in self.micros.items()}}


def db_counters(mongo_url: str, database: str) -> DbCounters:
    """The database's `top` counters summed over every collection of `database`.

    Keys are `<collection>.<section>` (`events.insert`, `snapshots.update`, ...) plus the
    plain section totals (`insert`, `update`, ...).
    """
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url, serverSelectionTimeoutMS=10_000)
    try:
        totals = client.admin.command("top")["totals"]
    finally:
        client.close()
    counts: dict[str, int] = {}
    micros: dict[str, int] = {}
    for namespace, sections in totals.items():
        db, _, collection = namespace.partition(".")
        if db != database:
            continue
        for section in _SECTIONS:
            for key in (section, f"{collection}.{section}"):
                counts[key] = counts.get(key, 0) + sections[section]["count"]
                micros[key] = micros.get(key, 0) + sections[section]["time"]
    return DbCounters(counts, micros)


def scrape(server: EmbeddedServer) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    """A service's `/metrics`, by family name: (sample name, labels, value) triples."""
    return {
        family.name: [(s.name, dict(s.labels), float(s.value)) for s in family.samples]
        for family in text_string_to_metric_families(metrics_text(server))
    }


def histogram(server: EmbeddedServer, family: str) -> dict[float, float]:
    """Cumulative bucket counts of a label-less histogram on a service: {upper bound: count}."""
    samples = scrape(server).get(family, [])
    return {
        float(labels["le"]): value for name, labels, value in samples if name.endswith("_bucket")
    }


def histogram_quantile(after: dict[float, float], before: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding quantile `q` of the observations in between.

    Bucket resolution only: "p99 <= this bound". NaN when nothing was observed.
    """
    bounds = sorted(after)
    delta = [after[b] - before.get(b, 0.0) for b in bounds]
    total = delta[-1] if delta else 0.0
    if total <= 0:
        return math.nan
    for bound, count in zip(bounds, delta, strict=True):
        if count >= q * total:
            return bound
    return math.inf


def measuring(settings: Settings) -> Settings:
    """`settings` for the bench's own database and broker clients: bounds that fit their work.

    The services' bounds (2 s for the database in a projector lab) are the services' to
    meet; a measurement loop that writes 10,000 users' snapshots in one bulk on a slow
    machine must not end the run with a timeout.
    """
    return settings.model_copy(
        update={
            "mongo_timeout_ms": MEASUREMENT_TIMEOUT_MS,
            "kafka_request_timeout_ms": MEASUREMENT_TIMEOUT_MS,
        }
    )


def wait_for(probe: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    """Poll `probe` until it is true; return the seconds it took (raise after `timeout`)."""
    started = time.perf_counter()
    while not probe():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not reached within {timeout:.0f} s")
        time.sleep(interval)
    return time.perf_counter() - started


@contextmanager
def gateway_stack(name: str, **overrides: Any) -> Iterator[Stack]:
    """A private broker and database with topics and tenant, and the three services.

    The gateway's rate limits are lifted: the bench measures the path, not the limiter.
    `overrides` set more of the services' settings.
    """
    with tempfile.TemporaryDirectory() as tmp, embedded_backend(Path(tmp)) as backend:
        settings = settings_for(backend.kafka_bootstrap, backend.mongo_url, name, False)
        settings = settings.model_copy(
            update={
                "rate_limit_events_per_second": 1e9,
                "rate_limit_burst": 10**9,
                "rate_limit_user_events_per_second": 1e9,
                "rate_limit_user_burst": 10**9,
                **overrides,
            }
        )
        asyncio.run(prepare_stack(settings))
        with running_stack(settings, Path(tmp) / "logs") as stack:
            yield stack
