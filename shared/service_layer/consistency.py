"""Read-your-writes: a write's consistency token, and waiting until a read reflects it.

A token names what one write accepted for one user: its eventIds, inline when they are few,
else by a reference to where they are kept. A read that presents it waits (bounded) until
every one of those events is in the user's log at or below its visible head (which is at or
below the snapshot's applied seq): that is exactly "the snapshot served reflects the write",
whatever path the events took (retry tiers included). Waiting costs no query per waiter per
moment: one watcher polls the positions of all waited-on snapshots at once, and a waiter
looks at the log only when its user's snapshot moved.

Waits are bounded three ways beside `within`: a token older than its lifetime (1 h by
default) is answered at once with what is reflected now; a wait ends at once, unreflected,
when one of its events became a dead letter or its user was erased (the projector drops such
events: they will never be reflected); and the gateway bounds how many reads wait at once.
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
from datetime import UTC, datetime, timedelta
from typing import Literal

import structlog

from shared.domain import RecordedEvent
from shared.service_layer.errors import StoreUnavailable
from shared.service_layer.ports import (
    Clock,
    DeadLetterStore,
    EventLog,
    SnapshotStore,
    TombstoneStore,
    WrittenEvents,
)
from shared.service_layer.user_keys import UserKey

__all__ = [
    "ANNOUNCED_POLL_SECONDS",
    "MAX_INLINE_IDS",
    "TOKEN_LIFETIME",
    "ReadYourWrites",
    "SnapshotWatcher",
    "TokenRefused",
    "Waited",
]

MAX_INLINE_IDS = 32
"""Writes with more eventIds keep them server-side; the token then holds a reference."""

TOKEN_LIFETIME = timedelta(hours=1)
"""How long a token makes a read wait; an older one is answered at once (no wait)."""

_POLL_SECONDS = 0.05
ANNOUNCED_POLL_SECONDS = 0.5
"""The watcher's poll where announcements wake it: the poll only covers a lost announcement."""
_LOST_CHECK_SECONDS = 0.5
"""How often a waiting read looks for a dead letter or an erasure of what it waits for."""
log = structlog.stdlib.get_logger(__name__)


class TokenRefused(ValueError):
    """A consistency token that is malformed, forged, expired, or of another user."""


@dataclass(frozen=True, slots=True)
class _Claims:
    key: UserKey
    event_ids: tuple[str, ...] = ()
    reference: str | None = None
    issued_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Waited:
    """How a wait ended: `consistent` is the `Progress-Consistent` answer.

    `how` is `reflected` (the write is in the snapshot), `timed_out` (not within the bound),
    `lost` (an event of it became a dead letter, or its user was erased: it never will be),
    or `expired` (the token outlived its lifetime: answered at once, without waiting).
    """

    consistent: bool
    how: Literal["reflected", "timed_out", "lost", "expired"]


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
    """One poller for every waiting read: who waits on which user, and who moved on.

    Where snapshot changes are announced (`notice`), the poll is only the fallback for a
    lost announcement and can be slow; the database then sees one query per interval.
    """

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

    def notice(self, key: UserKey, position: int) -> None:
        """An announced change of the user's snapshot: release the waits it passes at once.

        Position 0 (an erase) releases every wait on the user, which then finds it lost.
        """
        for seen, future in self._waiting.get(key, ()):
            if (position == 0 or position > seen) and not future.done():
                future.set_result(None)

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
        *,
        clock: Clock,
        letters: DeadLetterStore | None = None,
        tombstones: TombstoneStore | None = None,
        lifetime: timedelta = TOKEN_LIFETIME,
    ) -> None:
        self._events = events
        self._watcher = watcher
        self._written = written
        self._codec = _Codec(keys)
        self._letters = letters
        self._tombstones = tombstones
        self._clock = clock
        self._lifetime = lifetime

    async def token(self, key: UserKey, event_ids: Sequence[str]) -> str:
        """The token of one write of one user (its accepted eventIds), stamped with its time."""
        claims: dict[str, object] = {
            "t": key[0],
            "u": key[1],
            "i": int(self._clock.now().timestamp()),
        }
        if len(event_ids) <= MAX_INLINE_IDS:
            claims["e"] = list(event_ids)
        else:
            reference = secrets.token_urlsafe(12)
            until = self._clock.now() + self._lifetime
            await self._written.put(reference, key, event_ids, until)
            claims["r"] = reference
        return self._codec.encode(claims)

    async def tokens(self, events: Sequence[RecordedEvent]) -> dict[UserKey, str]:
        """A token per user of these accepted events (a write, a merge), each naming its ids."""
        by_user: dict[UserKey, list[str]] = {}
        for event in events:
            by_user.setdefault((event.tenant_id, event.user_id), []).append(event.event_id)
        return {key: await self.token(key, ids) for key, ids in by_user.items()}

    async def wait(self, token: str, key: UserKey, within: float) -> Waited:
        """Wait until the user's snapshot reflects the token's write, at most `within` s.

        An expired token (or one without an issue time) is answered at once with what is
        reflected now; a write of which an event became a dead letter, or whose user was
        erased, ends the wait at once, unreflected.

        Raises:
            TokenRefused: If the token is not one of ours, or is another user's.
        """
        claims = await self._claims(token)
        if claims.key != key:
            raise TokenRefused("the consistency token belongs to another user")
        issued = claims.issued_at
        if issued is None or self._clock.now() - issued > self._lifetime:
            return Waited(not await self._missing(key, set(claims.event_ids)), "expired")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        missing = set(claims.event_ids)
        while True:
            head = await self._events.visible_head(key, await self._watcher.position(key))
            missing = await self._missing(key, missing, head)
            if not missing:
                return Waited(True, "reflected")
            while True:
                if await self._lost(key, missing):
                    return Waited(False, "lost")
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return Waited(False, "timed_out")
                slice_ = min(remaining, _LOST_CHECK_SECONDS)
                if await self._watcher.moved(key, head, slice_):
                    break

    async def _missing(self, key: UserKey, missing: set[str], head: int | None = None) -> set[str]:
        """The eventIds not yet at or below the visible head `head` (now, if None).

        The visible head, not the snapshot's position: a read answered consistent serves
        its cursor there, and must not pass a position still empty.
        """
        if not missing:
            return missing
        if head is None:
            head = await self._events.visible_head(key, await self._watcher.position(key))
        found = (await self._events.find_many({key: sorted(missing)})).get(key, {})
        return missing - {event_id for event_id, entry in found.items() if entry.seq <= head}

    async def _lost(self, key: UserKey, missing: set[str]) -> bool:
        """True when a missing event became a dead letter, or its user was erased."""
        if self._letters is not None and await self._letters.holds(key, sorted(missing)):
            log.info("consistency_wait_lost", tenant=key[0], reason="dead_letter")
            return True
        if self._tombstones is not None and await self._tombstones.erased([key]):
            log.info("consistency_wait_lost", tenant=key[0], reason="erased")
            return True
        return False

    async def _claims(self, token: str) -> _Claims:
        claims = self._codec.decode(token)
        tenant, user = claims.get("t"), claims.get("u")
        if not isinstance(tenant, str) or not isinstance(user, str):
            raise TokenRefused("not a consistency token")
        stamp = claims.get("i")
        issued = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else None
        reference = claims.get("r")
        if isinstance(reference, str):
            found = await self._written.get(reference)
            if found is None:
                raise TokenRefused("the consistency token has expired")
            return _Claims(found[0], tuple(found[1]), reference, issued)
        event_ids = claims.get("e")
        if not isinstance(event_ids, list) or not all(isinstance(e, str) for e in event_ids):
            raise TokenRefused("not a consistency token")
        return _Claims((tenant, user), tuple(event_ids), None, issued)
