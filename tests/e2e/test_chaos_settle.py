"""The chaos campaign's settle probe, on the real database: it finds stored events by id."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chaos.verify import settle
from shared.adapters.settings import Settings
from tests.e2e.test_thin_slice import progressed, snapshot_with
from tests.support.services import eventually

pytestmark = pytest.mark.e2e


def test_settle_sees_stored_events_and_names_what_never_came(
    api: httpx.Client, settings: Settings, user_id: str
) -> None:
    sent = [progressed(f"e-{n}", f"lesson-{n}", "completed") for n in range(3)]
    assert api.put(f"/v1/users/{user_id}/progress", json={"events": sent}).status_code == 202
    eventually(lambda: snapshot_with(api, user_id, 3))
    stored = {(user_id, event["eventId"]) for event in sent}
    url, database = settings.mongo_url, settings.mongo_database

    settled = asyncio.run(settle(url, database, stored, 0.5, 10.0))
    never_sent = asyncio.run(settle(url, database, {*stored, (user_id, "never")}, 0.5, 2.0))

    assert settled["settled"] is True
    assert never_sent["settled"] is False
    assert never_sent["missing"] == 1
