"""The committed AsyncAPI document is the one FastStream generates from the services."""

from __future__ import annotations

import json

from services.asyncapi import ASYNCAPI_PATH, render
from shared.adapters.topics import ALL_TOPICS


def test_committed_asyncapi_document_is_current() -> None:
    assert ASYNCAPI_PATH.read_text() == render(), (
        "docs/asyncapi.json is stale: run `.venv/bin/python -m services.asyncapi`"
    )


def test_every_topic_is_documented_with_the_message_schema() -> None:
    document = json.loads(ASYNCAPI_PATH.read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert set(ALL_TOPICS) <= addresses
    assert "RecordedEvent" in document["components"]["schemas"]
