"""Read-your-writes: a write's consistency token, and waiting until a read reflects it.

A token names what one write accepted for one user: its eventIds, inline when they are few,
else by a reference to where they are kept. A read that presents it waits (bounded) until
every one of those events is in the user's log at or below the snapshot's applied seq: that
is exactly "the snapshot reflects the write", whatever path the events took (retry tiers
included). Waiting costs no query per waiter per moment: one watcher polls the positions of
all waited-on snapshots at once, and a waiter looks at the log only when its user's snapshot
moved.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.ports import EventLog, SnapshotStore, WrittenEvents
from shared.service_layer.records import UserKey

__all__ = ["MAX_INLINE_IDS", "ReadYourWrites", "SnapshotWatcher", "TokenRefused"]

MAX_INLINE_IDS = 32
"""Writes with more eventIds keep them server-side; the token then holds a reference."""

_POLL_SECONDS = 0.05
log = structlog.stdlib.get_logger(__name__)


class TokenRefused(ValueError):
    """A consistency token that is malformed, forged, expired, or of another user."""


@dataclass(frozen=True, slots=True)
class _Claims:
    key: UserKey
    event_ids: tuple[str, ...] = ()
    reference: str | None = None


class _Codec:
    """Signs token claims (HMAC-SHA256, truncated), so a token cannot be made up.

    Signs with the first key; accepts a token signed with any of `keys` (the erasure
    secret's ring), so tokens stay valid when the secret changes.
    """

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._keys = tuple(keys)

    def encode(self, claims: dict[str, object]) -> str:
        body = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_b64(body)}.{_b64(self._mac(self._keys[0], body))}"

    def decode(self, token: str) -> dict[str, object]:
        body_text, _, mac_text = token.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
            claims = json.loads(body)
        except (ValueError, TypeError):
            raise TokenRefused("not a consistency token") from None
        signed = any(hmac.compare_digest(mac, self._mac(key, body)) for key in self._keys)
        if not signed or not isinstance(claims, dict):
            raise TokenRefused("not a consistency token of this service")
        return claims

    @staticmethod
    def _mac(key: bytes, body: bytes) -> bytes:
        return hmac.new(key, b"consistency\x1f" + body, hashlib.sha256).digest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SnapshotWatcher:
    """One poller for every waiting read: who waits on which user, and who moved on."""

    def __init__(self, snapshots: SnapshotStore, interval: float = _POLL_SECONDS) -> None:
        self._snapshots = snapshots
        self._interval = interval
        self._waiting: dict[UserKey, list[tuple[int, asyncio.Future[None]]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def position(self, key: UserKey) -> int:
        """The user's snapshot position now (one query)."""
        return (await self._snapshots.positions([key])).get(key, 0)

    async def moved(self, key: UserKey, seen: int, within: float) -> bool:
        """Wait until the user's snapshot is past `seen` (True), at most `within` s (False)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append((seen, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        try:
            await asyncio.wait_for(asyncio.shield(future), within)
        except TimeoutError:
            return False
        finally:
            waiters = self._waiting.get(key, [])
            if (seen, future) in waiters:
                waiters.remove((seen, future))
            if not waiters:
                self._waiting.pop(key, None)
        return True

    async def _poll(self) -> None:
        while self._waiting:
            try:
                positions = await self._snapshots.positions(list(self._waiting))
            except StoreUnavailable as error:
                log.warning("consistency_watch_unavailable", error=str(error))
                positions = {}
            for key, waiters in list(self._waiting.items()):
                for seen, future in waiters:
                    if positions.get(key, 0) > seen and not future.done():
                        future.set_result(None)
            await asyncio.sleep(self._interval)


class ReadYourWrites:
    """Issues consistency tokens for writes and waits for reads to reflect them."""

    def __init__(
        self,
        events: EventLog,
        watcher: SnapshotWatcher,
        written: WrittenEvents,
        keys: Sequence[bytes],
    ) -> None:
        self._events = events
        self._watcher = watcher
        self._written = written
        self._codec = _Codec(keys)

    async def token(self, key: UserKey, event_ids: Sequence[str]) -> str:
        """The token of one write of one user (its accepted eventIds)."""
        claims: dict[str, object] = {"t": key[0], "u": key[1]}
        if len(event_ids) <= MAX_INLINE_IDS:
            claims["e"] = list(event_ids)
        else:
            reference = secrets.token_urlsafe(12)
            await self._written.put(reference, key, event_ids)
            claims["r"] = reference
        return self._codec.encode(claims)

    async def wait(self, token: str, key: UserKey, within: float) -> bool:
        """Wait until the user's snapshot reflects the token's write; False past `within` s.

        Raises:
            TokenRefused: If the token is not one of ours, or is another user's.
        """
        claims = await self._claims(token)
        if claims.key != key:
            raise TokenRefused("the consistency token belongs to another user")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        missing = set(claims.event_ids)
        while True:
            head = await self._watcher.position(key)
            if missing:
                found = (await self._events.find_many({key: sorted(missing)})).get(key, {})
                missing -= {event_id for event_id, entry in found.items() if entry.seq <= head}
            if not missing:
                return True
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self._watcher.moved(key, head, remaining):
                return False

    async def _claims(self, token: str) -> _Claims:
        claims = self._codec.decode(token)
        tenant, user = claims.get("t"), claims.get("u")
        if not isinstance(tenant, str) or not isinstance(user, str):
            raise TokenRefused("not a consistency token")
        reference = claims.get("r")
        if isinstance(reference, str):
            found = await self._written.get(reference)
            if found is None:
                raise TokenRefused("the consistency token has expired")
            return _Claims(found[0], tuple(found[1]), reference)
        event_ids = claims.get("e")
        if not isinstance(event_ids, list) or not all(isinstance(e, str) for e in event_ids):
            raise TokenRefused("not a consistency token")
        return _Claims((tenant, user), tuple(event_ids))
