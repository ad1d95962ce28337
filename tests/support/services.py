"""The three services as real processes, pointed at the test backend."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from shared.adapters.embedded import EmbeddedServer, free_port
from shared.adapters.settings import Settings

T = TypeVar("T")

TEST_API_KEY = "test-api-key-0123456789"
TEST_SIGNING_SECRET = "test-signing-secret-0123456789-abcdef"

# Every test shares the session's database server. SecantusDB holds one lock while it drops a
# database, so a test dropping a large one stalls the others for seconds on a slow two-core
# machine; the services' 5 s default would turn that stall into a failure of whichever test
# happened to be waiting. Private servers (fault tests, bench, chaos) keep the default.
SHARED_DATABASE_TIMEOUT_MS = 30_000
_DEFAULT_DATABASE_TIMEOUT_MS: int = Settings.model_fields["mongo_timeout_ms"].default

PRIVATE_GROUP_TIMING: dict[str, int] = {
    "consumer_session_timeout_ms": 6000,
    "consumer_heartbeat_interval_ms": 2000,
}
"""Consumer-group timing of the stacks a test starts for itself (a handful of processes).

Tansu answers a new member's JoinGroup only after half its session timeout, so with the
10 s default every group a process joins costs 5 s (the retry worker joins four, one after
the other), and a member killed with SIGKILL holds its partitions for the whole 10 s. 6 s
is the shortest session an Apache Kafka broker accepts by default
(`group.min.session.timeout.ms`), so the testcontainers backend takes it too.
"""


def settings_for(
    backend_kafka: str,
    backend_mongo: str,
    database: str,
    idempotent: bool,
    mongo_timeout_ms: int = _DEFAULT_DATABASE_TIMEOUT_MS,
) -> Settings:
    return Settings(
        mongo_timeout_ms=mongo_timeout_ms,
        kafka_bootstrap=backend_kafka,
        mongo_url=backend_mongo,
        mongo_database=database,
        # Runs sharing one broker (CI jobs on a real cluster) never share a consumer group.
        projector_group=f"progress-projector-{database}",
        kafka_idempotent=idempotent,
        gateway_port=free_port(),
        projector_port=free_port(),
        retry_worker_port=free_port(),
        insights_port=free_port(),
        demo_port=free_port(),
        bootstrap_api_key=TEST_API_KEY,  # type: ignore[arg-type]
        bootstrap_signing_secret=TEST_SIGNING_SECRET,  # type: ignore[arg-type]
        jwks_allow_loopback_http=True,
        log_level="INFO",
        environment="development",
    )


def service_env(settings: Settings) -> dict[str, str]:
    """The PROGRESS_* environment that makes a service process use exactly these settings."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"PROGRESS_{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


def service_process(
    settings: Settings, name: str, module: str, port: int, logs: Path
) -> EmbeddedServer:
    """A service's process on `port`, with a free metrics port of its own."""
    return EmbeddedServer(
        name=name,
        argv=[sys.executable, "-m", module],
        host="127.0.0.1",
        port=port,
        log_path=logs / f"{name}.log",
        env=with_metrics_port(service_env(settings)),
    )


def with_metrics_port(env: dict[str, str]) -> dict[str, str]:
    """`env` with a free `PROGRESS_METRICS_PORT`: processes of one test share a host."""
    return {**env, "PROGRESS_METRICS_PORT": str(free_port())}


def metrics_text(server: EmbeddedServer) -> str:
    """What a service process serves at `/metrics` on its metrics port."""
    port = (server.env or {})["PROGRESS_METRICS_PORT"]
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


@dataclass
class Stack:
    settings: Settings
    gateway: EmbeddedServer
    projector: EmbeddedServer
    retry_worker: EmbeddedServer

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    def processes(self) -> list[EmbeddedServer]:
        return [self.gateway, self.projector, self.retry_worker]


@contextmanager
def running_stack(settings: Settings, logs: Path) -> Iterator[Stack]:
    stack = Stack(
        settings=settings,
        gateway=service_process(
            settings, "gateway", "services.gateway", settings.gateway_port, logs
        ),
        projector=service_process(
            settings, "projector", "services.projector", settings.projector_port, logs
        ),
        retry_worker=service_process(
            settings, "retry-worker", "services.retry_worker", settings.retry_worker_port, logs
        ),
    )
    try:
        for process in stack.processes():
            process.launch()
        for process in stack.processes():
            process.wait(timeout=90)
        yield stack
    finally:
        for process in stack.processes():
            process.stop()


def eventually(probe: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.1) -> T:
    """Poll `probe` until it returns something other than None (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
