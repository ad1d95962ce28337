"""Every collection has a documented shard key (or is documented unsharded), and the guard bites."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pymongo import ReplaceOne

from shared.adapters import mongo
from shared.adapters.mongo import SHARD_KEYS
from tests.support.shard_keys import ShardKeyGuard, Unroutable

PAGE = Path(__file__).parents[2] / "docs" / "sharding.md"
COLLECTIONS = sorted(
    getattr(mongo, name)
    for name in mongo.__all__
    if name.isupper() and isinstance(getattr(mongo, name), str)
)


def _documented() -> dict[str, str]:
    rows = re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", PAGE.read_text(), re.MULTILINE)
    keys: dict[str, str] = {}
    for names, key in rows:
        for name in re.findall(r"`([a-z_]+)`", names):
            keys[name] = key.strip()
    return keys


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_the_page_gives_each_collection_its_shard_key(collection: str) -> None:
    documented = _documented().get(collection)
    assert documented is not None, f"docs/sharding.md does not list {collection}"
    key = SHARD_KEYS.get(collection)
    if key is None:
        assert documented == "unsharded"
    else:
        assert all(f"{field}:" in documented for field in key), (collection, documented)


class _Collection:
    async def bulk_write(self, requests: list[Any], **_: Any) -> None:
        return None


async def test_the_guard_refuses_a_single_write_without_the_whole_key() -> None:
    guard = ShardKeyGuard({"snapshots": _Collection()})
    await guard["snapshots"].bulk_write([ReplaceOne({"_id": "x", "t": "a", "u": "b"}, {})])
    with pytest.raises(Unroutable, match="snapshots"):
        await guard["snapshots"].bulk_write([ReplaceOne({"_id": "x", "t": "a"}, {})])
    assert [write.targeted for write in guard.writes] == [True, False]
