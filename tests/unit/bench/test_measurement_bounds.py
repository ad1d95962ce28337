"""The bench's own clients get bounds that fit their work, not the services' defaults."""

from __future__ import annotations

from bench.common import MEASUREMENT_TIMEOUT_MS, measuring
from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings


async def test_the_raw_loops_database_client_waits_minutes_not_the_labs_two_seconds() -> None:
    lab = Settings(mongo_timeout_ms=2000)  # what a projector lab gives its services

    client = mongo_client(measuring(lab))
    try:
        assert client.options.pool_options.socket_timeout == MEASUREMENT_TIMEOUT_MS / 1000
        assert client.options.server_selection_timeout == MEASUREMENT_TIMEOUT_MS / 1000
    finally:
        await client.close()
    assert measuring(lab).kafka_request_timeout_ms == MEASUREMENT_TIMEOUT_MS
    assert lab.mongo_timeout_ms == 2000  # the services' own settings are left alone
