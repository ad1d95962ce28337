"""Session-wide real servers: Kafka and MongoDB from the selected backend, and the services."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.progressctl.provisioning import prepare_stack
from shared.adapters.settings import Settings
from tests.support.backends import Backend, selected_backend
from tests.support.services import (
    SHARED_DATABASE_TIMEOUT_MS,
    TEST_API_KEY,
    Stack,
    running_stack,
    settings_for,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/unit are unit tests (`make unit`: `pytest -m unit`)."""
    for item in items:
        if "/tests/unit/" in str(item.path):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("progress-sync")


@pytest.fixture(scope="session")
def backend(workdir: Path) -> Iterator[Backend]:
    with selected_backend(workdir) as selected:
        yield selected


@pytest.fixture(scope="session")
def settings(backend: Backend) -> Settings:
    """Settings for this test session: its own database and consumer group, free ports."""
    settings = settings_for(
        backend.kafka_bootstrap,
        backend.mongo_url,
        f"progress_test_{uuid.uuid4().hex[:8]}",
        backend.idempotent_producer,
        mongo_timeout_ms=SHARED_DATABASE_TIMEOUT_MS,
    )
    asyncio.run(prepare_stack(settings))
    return settings


@pytest.fixture(scope="session")
def stack(settings: Settings, workdir: Path) -> Iterator[Stack]:
    with running_stack(settings, workdir / "logs") as running:
        yield running


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the gateway, authenticated with the bootstrap tenant's API key."""
    with httpx.Client(
        base_url=stack.gateway_url,
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        timeout=10.0,
    ) as client:
        yield client


@pytest.fixture
def user_id() -> str:
    """A user no other test touches."""
    return f"user-{uuid.uuid4().hex[:12]}"
