"""A recording stand-in for a MongoDB database: it refuses writes a sharded cluster cannot route.

Wrapped around the real database in the contract suite, so every store's contract runs
through it: a single-document write (insert, update_one, replace_one, delete_one,
find_one_and_*, and in bulk InsertOne, UpdateOne, ReplaceOne, DeleteOne) or any upsert on a
collection of `SHARD_KEYS` must name each field of its shard key by equality (an insert:
carry it). Multi-document updates and deletes may go to every shard, as MongoDB allows;
they are recorded as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne

from shared.adapters.mongo import SHARD_KEYS

__all__ = ["ShardKeyGuard", "Unroutable", "Write"]


class Unroutable(AssertionError):
    """A write whose filter (or document) lacks its collection's shard key."""


@dataclass(frozen=True, slots=True)
class Write:
    """One write as a router sees it: where it can go."""

    collection: str
    operation: str
    targeted: bool


@dataclass
class ShardKeyGuard:
    """Stands in for `AsyncDatabase`: collections come back guarded, the rest passes through."""

    db: Any
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(SHARD_KEYS))
    writes: list[Write] = field(default_factory=list)

    def __getitem__(self, name: str) -> _GuardedCollection:
        return _GuardedCollection(self.db[name], name, self)

    def get_collection(self, name: str, **options: Any) -> _GuardedCollection:
        """The collection with other options (a write concern), guarded all the same."""
        return _GuardedCollection(self.db.get_collection(name, **options), name, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def check(
        self, collection: str, operation: str, fields: Mapping[str, Any], *, one: bool
    ) -> None:
        """Record the write; refuse a single-document one that does not name the whole key."""
        key = self.keys.get(collection)
        targeted = key is None or all(_names(fields, name) for name in key)
        self.writes.append(Write(collection, operation, targeted))
        if one and not targeted:
            raise Unroutable(
                f"{operation} on {collection} names no whole shard key {key}: {dict(fields)!r}"
            )


def _names(fields: Mapping[str, Any], name: str) -> bool:
    """True when `fields` pins `name` to one value (a plain value or `$eq`)."""
    if name not in fields:
        return False
    value = fields[name]
    if isinstance(value, Mapping) and any(str(op).startswith("$") for op in value):
        return set(value) == {"$eq"}
    return True


class _GuardedCollection:
    def __init__(self, collection: Any, name: str, guard: ShardKeyGuard) -> None:
        self._collection = collection
        self._name = name
        self._guard = guard

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def _one(self, operation: str, fields: Mapping[str, Any]) -> None:
        self._guard.check(self._name, operation, fields, one=True)

    async def insert_one(self, document: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._one("insert_one", document)
        return await self._collection.insert_one(document, *args, **kwargs)

    async def insert_many(
        self, documents: Iterable[Mapping[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        documents = list(documents)
        for document in documents:
            self._one("insert_many", document)
        return await self._collection.insert_many(documents, *args, **kwargs)

    async def update_one(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._one("update_one", query)
        return await self._collection.update_one(query, *args, **kwargs)

    async def replace_one(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._one("replace_one", query)
        return await self._collection.replace_one(query, *args, **kwargs)

    async def delete_one(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._one("delete_one", query)
        return await self._collection.delete_one(query, *args, **kwargs)

    async def find_one_and_update(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._one("find_one_and_update", query)
        return await self._collection.find_one_and_update(query, *args, **kwargs)

    async def find_one_and_replace(
        self, query: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        self._one("find_one_and_replace", query)
        return await self._collection.find_one_and_replace(query, *args, **kwargs)

    async def find_one_and_delete(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._one("find_one_and_delete", query)
        return await self._collection.find_one_and_delete(query, *args, **kwargs)

    async def update_many(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._guard.check(self._name, "update_many", query, one=bool(kwargs.get("upsert")))
        return await self._collection.update_many(query, *args, **kwargs)

    async def delete_many(self, query: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._guard.check(self._name, "delete_many", query, one=False)
        return await self._collection.delete_many(query, *args, **kwargs)

    async def bulk_write(self, requests: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        requests = list(requests)
        for request in requests:
            operation = type(request).__name__
            if isinstance(request, InsertOne):
                self._one(operation, request._doc)
            elif isinstance(request, (UpdateOne, ReplaceOne, DeleteOne)):
                self._one(operation, request._filter)
            elif isinstance(request, (UpdateMany, DeleteMany)):
                upsert = bool(getattr(request, "_upsert", False))
                self._guard.check(self._name, operation, request._filter, one=upsert)
            else:
                raise Unroutable(f"unknown bulk operation {operation} on {self._name}")
        return await self._collection.bulk_write(requests, *args, **kwargs)
