"""Consistency is set by the code, not by server or URL defaults (read-your-writes)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pymongo import ReadPreference

from shared.adapters.mongo import mongo_client
from shared.adapters.settings import Settings


@pytest.mark.parametrize(
    "url",
    [
        "mongodb://127.0.0.1:27017/",
        "mongodb://a,b,c/?replicaSet=rs0&w=1&readConcernLevel=local",
    ],
)
async def test_every_write_waits_for_a_majority_and_the_journal_and_reads_see_only_committed_data(
    url: str,
) -> None:
    client = mongo_client(Settings(mongo_url=url))
    try:
        assert client.write_concern.document == {"w": "majority", "j": True}
        assert client.read_concern.level == "majority"
        assert client.read_preference == ReadPreference.PRIMARY
    finally:
        await client.close()


@pytest.mark.parametrize(
    "preference", ["secondary", "secondaryPreferred", "primaryPreferred", "nearest"]
)
def test_a_url_that_would_read_from_secondaries_is_refused_at_start(preference: str) -> None:
    url = f"mongodb://user:secret@a,b/?replicaSet=rs0&readPreference={preference}"
    with pytest.raises(ValidationError) as refused:
        Settings(mongo_url=url)
    message = str(refused.value)
    assert "mongo_url" in message
    assert f"readPreference={preference}" in message
    assert "secret" not in message


def test_a_url_that_names_the_primary_is_accepted() -> None:
    url = "mongodb://a/?READPREFERENCE=primary"
    assert Settings(mongo_url=url).mongo_url == url
