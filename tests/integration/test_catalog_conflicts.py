"""A catalog PUT that keeps losing its conditional write is a 409 conflict that stores nothing.

The race is real: before each of the store's conditional writes, another writer moves the
course's revision on in the real database, so every write of the PUT finds its read stale.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from services.gateway.errors import install_error_handlers
from shared.adapters.catalog_store import MongoCatalogStore
from shared.adapters.mongo import CATALOG, Document, ensure_indexes, mongo_client
from shared.adapters.settings import Settings
from shared.domain import parse_course

pytestmark = pytest.mark.integration

TENANT = "demo"
FIRST = parse_course({"courseId": "c", "items": [{"contentId": "x", "kind": "step"}]})
SECOND = parse_course({"courseId": "c", "items": [{"contentId": "y", "kind": "step"}]})


class RacedCatalog:
    """The catalog collection, where another writer bumps the revision before every replace."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def replace_one(self, query: Document, document: Document) -> Any:
        await self._collection.update_one({"_id": query["_id"]}, {"$inc": {"r": 1}})
        result = await self._collection.replace_one(query, document)
        self.lost += result.matched_count == 0
        return result


class RacedDatabase:
    """Stands in for `AsyncDatabase`: its catalog collection is raced."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.catalog = RacedCatalog(db[CATALOG])

    def __getitem__(self, name: str) -> Any:
        return self.catalog if name == CATALOG else self.db[name]


@pytest.fixture
async def raced(settings: Settings) -> AsyncIterator[tuple[AsyncDatabase[Document], RacedDatabase]]:
    client = mongo_client(settings)
    name = f"catalograce_{uuid.uuid4().hex[:8]}"
    db = client[name]
    await ensure_indexes(db)
    try:
        yield db, RacedDatabase(db)
    finally:
        await client.drop_database(name)
        await client.close()


async def answered(method: str, operation: Callable[[], Awaitable[object]]) -> httpx.Response:
    """The answer to `operation`, served as a route with the gateway's error handlers."""
    app = FastAPI()
    install_error_handlers(app)
    app.add_api_route("/course", operation, methods=[method])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.request(method, "/course")


async def test_a_put_losing_five_conditional_writes_answers_409_and_stores_nothing(
    raced: tuple[AsyncDatabase[Document], RacedDatabase],
) -> None:
    db, racing = raced
    assert await MongoCatalogStore(db).put(TENANT, FIRST) == (1, True)
    store = MongoCatalogStore(cast(AsyncDatabase[Document], racing))

    async def put_course() -> tuple[int, bool]:
        return await store.put(TENANT, SECOND)

    response = await answered("PUT", put_course)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "concurrent_change"
    assert "'c'" in error["message"]
    assert "nothing was stored" in error["message"]
    assert racing.catalog.lost == 5
    assert await MongoCatalogStore(db).get(TENANT, "c") == FIRST, "the PUT stored nothing"
    assert await MongoCatalogStore(db).kept(TENANT, ["c"]) == {}


async def test_a_delete_losing_five_conditional_writes_answers_409_and_removes_nothing(
    raced: tuple[AsyncDatabase[Document], RacedDatabase],
) -> None:
    db, racing = raced
    assert await MongoCatalogStore(db).put(TENANT, FIRST) == (1, True)
    store = MongoCatalogStore(cast(AsyncDatabase[Document], racing))

    async def delete_course() -> int | None:
        return await store.remove(TENANT, "c")

    response = await answered("DELETE", delete_course)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "concurrent_change"
    assert racing.catalog.lost == 5
    assert await MongoCatalogStore(db).get(TENANT, "c") == FIRST, "the DELETE removed nothing"
