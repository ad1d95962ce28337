"""Where the tests' Kafka and MongoDB come from: embedded (default), testcontainers, external.

PROGRESS_TEST_BACKEND=embedded        start Tansu and SecantusDB on free ports (never skips)
PROGRESS_TEST_BACKEND=testcontainers  Apache Kafka (KRaft) and a MongoDB replica set in containers,
                                      the images of docker-compose.yml (`make test-real`; skips
                                      without Docker)
PROGRESS_TEST_BACKEND=external        servers named by PROGRESS_TEST_KAFKA_BOOTSTRAP and
                                      PROGRESS_TEST_MONGO_URL

Destructive suites (crash, rebalance, outages) take a `private_backend` of the selected kind
and inject faults through `ServerFaults`: signals to an embedded process, docker pause and
unpause to a container.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from shared.adapters.embedded import EmbeddedServer, broker_server, database_server, free_port
from tests.support.docker_engine import docker_engine_problem

KAFKA_IMAGE = "apache/kafka:4.1.0"
"""The broker image of docker-compose.yml (tests/unit/test_deploy_images.py keeps them equal)."""
MONGO_IMAGE = "mongo:8.0"
"""The database image of docker-compose.yml, run as a replica set as there."""
REPLICA_SET = "rs0"
_KRAFT_CLUSTER_ID = "wWjKXYgwQi6ULXb2BYXMAA"


class ServerFaults(Protocol):
    """What a destructive test does to a server: stop it answering, then resume it."""

    def freeze(self) -> None:
        """Stop answering (connections stay open, nothing is refused): SIGSTOP, docker pause."""

    def thaw(self) -> None:
        """Answer again, as if nothing happened: SIGCONT, docker unpause."""


@dataclass(frozen=True)
class ProcessFaults:
    """Faults of an embedded server: signals to its process."""

    server: EmbeddedServer

    def freeze(self) -> None:
        self.server.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.server.signal(signal.SIGCONT)


@dataclass(frozen=True)
class ContainerFaults:
    """Faults of a container: docker pause and unpause."""

    container: Any

    def freeze(self) -> None:
        self.container.pause()

    def thaw(self) -> None:
        self.container.unpause()


@dataclass(frozen=True)
class Backend:
    """Addresses of a running Kafka and MongoDB, and the faults a test may inject into them.

    `broker` and `database` are None where the tests do not own the servers (external).
    """

    name: str
    kafka_bootstrap: str
    mongo_url: str
    idempotent_producer: bool
    broker: ServerFaults | None = None
    database: ServerFaults | None = None

    def database_faults(self) -> ServerFaults:
        """The database's faults, or a skip saying why this backend cannot inject them."""
        if self.database is None:
            pytest.skip(f"PROGRESS_TEST_BACKEND={self.name}: the tests do not own its database")
        return self.database


@contextmanager
def embedded_backend(workdir: Path) -> Iterator[Backend]:
    broker = broker_server("127.0.0.1", free_port(), workdir / "logs")
    database = database_server("127.0.0.1", free_port(), workdir / "mongo", workdir / "logs")
    try:
        broker.start()
        database.start()
        yield Backend(
            name="embedded",
            kafka_bootstrap=f"127.0.0.1:{broker.port}",
            mongo_url=f"mongodb://127.0.0.1:{database.port}",
            idempotent_producer=False,
            broker=ProcessFaults(broker),
            database=ProcessFaults(database),
        )
    finally:
        broker.stop()
        database.stop()


def _kafka_container(port: int) -> Any:
    """One KRaft node (broker and controller) of the compose image, listening on `port`.

    Inside and outside the container the port is the same, so the advertised address works
    from the host without knowing a mapped port in advance.
    """
    from testcontainers.core.container import DockerContainer

    environment = {
        "CLUSTER_ID": _KRAFT_CLUSTER_ID,
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENERS": f"PLAINTEXT://:{port},CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://127.0.0.1:{port}",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    }
    container = DockerContainer(KAFKA_IMAGE).with_bind_ports(port, port)
    for key, value in environment.items():
        container = container.with_env(key, value)
    return container


@contextmanager
def _kafka_in_container(port: int) -> Iterator[Any]:
    """The broker container on `port`, once it serves; removed afterwards."""
    from testcontainers.core.waiting_utils import wait_for_logs

    with _kafka_container(port) as kafka:
        wait_for_logs(kafka, "Kafka Server started", timeout=120)
        yield kafka


def _initiate_replica_set(port: int, timeout: float = 60.0) -> None:
    """Make the one-member replica set and wait until its member is primary."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    deadline = time.monotonic() + timeout
    client: MongoClient[dict[str, Any]] = MongoClient(
        f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=2000
    )
    member = {"_id": 0, "host": f"127.0.0.1:{port}"}
    try:
        while True:
            try:
                if client.admin.command("hello").get("isWritablePrimary"):
                    return
                client.admin.command("replSetInitiate", {"_id": REPLICA_SET, "members": [member]})
            except PyMongoError as error:
                if time.monotonic() > deadline:
                    problem = f"replica set {REPLICA_SET} elected no primary: {error}"
                    raise TimeoutError(problem) from error
            time.sleep(0.5)
    finally:
        client.close()


@contextmanager
def container_backend() -> Iterator[Backend]:
    """Apache Kafka (KRaft) and a MongoDB replica set in containers, the images of compose."""
    problem = docker_engine_problem()
    if problem:
        pytest.skip(f"PROGRESS_TEST_BACKEND=testcontainers: {problem}")
    from testcontainers.core.container import DockerContainer

    kafka_port, mongo_port = free_port(), free_port()
    mongo = (
        DockerContainer(MONGO_IMAGE)
        .with_bind_ports(mongo_port, mongo_port)
        .with_command(f"mongod --replSet {REPLICA_SET} --bind_ip_all --port {mongo_port}")
    )
    with _kafka_in_container(kafka_port) as kafka, mongo:
        _initiate_replica_set(mongo_port)
        yield Backend(
            name="testcontainers",
            kafka_bootstrap=f"127.0.0.1:{kafka_port}",
            mongo_url=f"mongodb://127.0.0.1:{mongo_port}/?replicaSet={REPLICA_SET}",
            idempotent_producer=True,
            broker=ContainerFaults(kafka.get_wrapped_container()),
            database=ContainerFaults(mongo.get_wrapped_container()),
        )


@contextmanager
def external_backend() -> Iterator[Backend]:
    kafka = os.environ.get("PROGRESS_TEST_KAFKA_BOOTSTRAP")
    mongo = os.environ.get("PROGRESS_TEST_MONGO_URL")
    if not kafka or not mongo:
        pytest.fail(
            "PROGRESS_TEST_BACKEND=external needs PROGRESS_TEST_KAFKA_BOOTSTRAP and "
            "PROGRESS_TEST_MONGO_URL"
        )
    yield Backend(
        name="external",
        kafka_bootstrap=kafka,
        mongo_url=mongo,
        idempotent_producer=os.environ.get("PROGRESS_TEST_KAFKA_IDEMPOTENT", "false") == "true",
    )


def selected_backend_name() -> str:
    """The backend named by PROGRESS_TEST_BACKEND (default: embedded)."""
    return os.environ.get("PROGRESS_TEST_BACKEND", "embedded")


@contextmanager
def selected_backend(workdir: Path) -> Iterator[Backend]:
    """The backend named by PROGRESS_TEST_BACKEND (default: embedded)."""
    choice = selected_backend_name()
    if choice == "embedded":
        with embedded_backend(workdir) as backend:
            yield backend
    elif choice == "testcontainers":
        with container_backend() as backend:
            yield backend
    elif choice == "external":
        with external_backend() as backend:
            yield backend
    else:
        pytest.fail(f"unknown PROGRESS_TEST_BACKEND={choice!r}")


@contextmanager
def private_backend(workdir: Path) -> Iterator[Backend]:
    """A Kafka and MongoDB of a test module's own, of the selected kind, that it may freeze.

    The crash, rebalance and outage suites use it, so they run on the real backend too;
    with servers the tests do not own (external) they are skipped, saying why.
    """
    choice = selected_backend_name()
    if choice == "external":
        pytest.skip("PROGRESS_TEST_BACKEND=external: the tests cannot freeze its servers")
    with selected_backend(workdir) as backend:
        yield backend


@dataclass(frozen=True)
class PrivateBroker:
    """A broker of a test module's own: its address, and the faults its tests inject."""

    bootstrap: str
    faults: ServerFaults


@contextmanager
def private_broker(folder: Path) -> Iterator[PrivateBroker]:
    """A broker of the selected kind on a free port, so that a module's tests may freeze it.

    Embedded: a Tansu process (SIGSTOP). Testcontainers: an Apache Kafka container (docker
    pause). External: skipped, saying why.
    """
    choice = selected_backend_name()
    if choice == "external":
        pytest.skip("PROGRESS_TEST_BACKEND=external: the tests cannot freeze its broker")
    port = free_port()
    if choice == "testcontainers":
        problem = docker_engine_problem()
        if problem:
            pytest.skip(f"PROGRESS_TEST_BACKEND=testcontainers: {problem}")
        with _kafka_in_container(port) as kafka:
            yield PrivateBroker(f"127.0.0.1:{port}", ContainerFaults(kafka.get_wrapped_container()))
        return
    broker = broker_server("127.0.0.1", port, folder)
    broker.start()
    try:
        yield PrivateBroker(f"127.0.0.1:{port}", ProcessFaults(broker))
    finally:
        broker.stop()
