"""Where the tests' Kafka and MongoDB come from: embedded (default), testcontainers, external.

PROGRESS_TEST_BACKEND=embedded        start Tansu and SecantusDB on free ports (never skips)
PROGRESS_TEST_BACKEND=testcontainers  Apache Kafka and MongoDB containers (skips without Docker)
PROGRESS_TEST_BACKEND=external        servers named by PROGRESS_TEST_KAFKA_BOOTSTRAP and
                                      PROGRESS_TEST_MONGO_URL
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.adapters.embedded import EmbeddedServer, broker_server, database_server, free_port


@dataclass(frozen=True)
class Backend:
    """Addresses of a running Kafka and MongoDB, and how to freeze them (embedded only)."""

    name: str
    kafka_bootstrap: str
    mongo_url: str
    idempotent_producer: bool
    broker: EmbeddedServer | None = None
    database: EmbeddedServer | None = None


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
            broker=broker,
            database=database,
        )
    finally:
        broker.stop()
        database.stop()


def _docker_engine_answers() -> str | None:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception as error:
        return f"no Docker engine answers ({type(error).__name__}: {error})"
    return None


@contextmanager
def container_backend() -> Iterator[Backend]:
    problem = _docker_engine_answers()
    if problem:
        pytest.skip(f"PROGRESS_TEST_BACKEND=testcontainers: {problem}")
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with KafkaContainer().with_kraft() as kafka, MongoDbContainer("mongo:8.0") as mongo:
        yield Backend(
            name="testcontainers",
            kafka_bootstrap=kafka.get_bootstrap_server(),
            mongo_url=mongo.get_connection_url(),
            idempotent_producer=True,
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


@contextmanager
def selected_backend(workdir: Path) -> Iterator[Backend]:
    """The backend named by PROGRESS_TEST_BACKEND (default: embedded)."""
    choice = os.environ.get("PROGRESS_TEST_BACKEND", "embedded")
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
def private_broker(folder: Path) -> Iterator[EmbeddedServer]:
    """A broker of a test module's own, on a free port, so that its tests may stop it."""
    broker = broker_server("127.0.0.1", free_port(), folder)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
