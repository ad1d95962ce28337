"""A steady, bounded stream of writes through the gateway, as well-behaved clients send them.

Workers share one pace (events per second). Each request is either one user's
`PUT /v1/users/{u}/progress` (with the API key or the user's own token) or a bulk
`POST /v1/events` for a few users. A request carries the outbox first (events whose earlier
answer was unknown), then some resends of already-accepted events, then new events.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chaos.ledger import Ledger, Submitted
from chaos.traffic import EventMaker
from shared.adapters.user_tokens import mint_user_token
from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET

__all__ = ["Load"]

_RETRY_LATER = {429, 503}
_MAX_BATCH = 20
_TENANT = "demo"


@dataclass
class _Pace:
    """Spends `rate` events per second across all workers, without saving up bursts."""

    rate: float
    _next: float = field(default_factory=time.monotonic)

    async def take(self, events: int) -> None:
        now = time.monotonic()
        self._next = max(self._next, now - 1.0) + events / self.rate
        if self._next > now:
            await asyncio.sleep(self._next - now)


@dataclass
class Load:
    """The load generator; `statuses` and counters feed the report."""

    base_url: str
    ledger: Ledger
    maker: EventMaker
    rng: random.Random
    users: list[str]
    rate: float
    resend_share: float
    workers: int = 4
    statuses: Counter[str] = field(default_factory=Counter)
    events_sent: int = 0
    resends: int = 0
    outbox_resends: int = 0
    latencies: list[float] = field(default_factory=list)
    _tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        for user in self.users:
            self._tokens[user] = mint_user_token(
                TEST_SIGNING_SECRET, _TENANT, user, timedelta(days=1), now
            )
        self._pace = _Pace(self.rate)

    async def run(self, done: asyncio.Event) -> None:
        """Send until `done` is set."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10.0) as client:
            await asyncio.gather(*(self._worker(client, done) for _ in range(self.workers)))

    async def flush(self, until: float) -> None:
        """Resend the outbox (and nothing new) until it is empty or `until` passes."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10.0) as client:
            while self.ledger.outbox and time.monotonic() < until:
                batch = self.ledger.take_outbox(None, _MAX_BATCH)
                self.outbox_resends += len(batch)
                await self._pace.take(len(batch))
                await self._send(client, batch, bulk=True)

    async def _worker(self, client: httpx.AsyncClient, done: asyncio.Event) -> None:
        while not done.is_set():
            bulk = self.rng.random() < 0.3
            users = self.rng.sample(self.users, self.rng.randint(2, 5) if bulk else 1)
            batch = self._batch(users, self.rng.randint(1, _MAX_BATCH))
            await self._pace.take(len(batch))
            await self._send(client, batch, bulk)

    def _batch(self, users: list[str], size: int) -> list[Submitted]:
        batch = self.ledger.take_outbox(users, size)
        self.outbox_resends += len(batch)
        seen = {(user, raw["eventId"]) for user, raw in batch}
        while len(batch) < size:
            user = self.rng.choice(users)
            earlier = self.ledger.sent.get(user)
            if earlier and self.rng.random() < self.resend_share:
                raw = self.rng.choice(earlier)
                if (user, raw["eventId"]) in seen:
                    continue
                self.resends += 1
            else:
                raw = self.maker.new(user)
            seen.add((user, raw["eventId"]))
            batch.append((user, raw))
        return batch

    async def _send(self, client: httpx.AsyncClient, batch: list[Submitted], bulk: bool) -> None:
        users = {user for user, _ in batch}
        if not bulk and len(users) > 1:
            bulk = True
        if bulk:
            path = "/v1/events"
            body: dict[str, Any] = {"events": [{**raw, "userId": user} for user, raw in batch]}
            token = TEST_API_KEY
        else:
            user = next(iter(users))
            path = f"/v1/users/{user}/progress"
            body = {"events": [raw for _, raw in batch]}
            token = self._tokens[user] if self.rng.random() < 0.5 else TEST_API_KEY
        headers = {"Authorization": f"Bearer {token}"}
        self.events_sent += len(batch)
        started = time.monotonic()
        try:
            response = await client.request(
                "POST" if bulk else "PUT", path, json=body, headers=headers
            )
        except httpx.TransportError as error:
            self.statuses[type(error).__name__] += 1
            self.ledger.unknown(batch)
            await asyncio.sleep(0.5)
            return
        self.statuses[str(response.status_code)] += 1
        if response.status_code == 202:
            self.latencies.append(time.monotonic() - started)
            self.ledger.record(batch, response.json(), "load")
            return
        if response.status_code in _RETRY_LATER or response.status_code >= 500:
            self.ledger.unknown(batch)
            if response.status_code >= 500 and response.status_code != 503:
                self.ledger.note(f"load got {response.status_code}", response.text[:500])
            await asyncio.sleep(min(_retry_after(response), 5.0))
            return
        self.ledger.note(f"load got {response.status_code} (events dropped)", response.text[:500])
        await asyncio.sleep(1.0)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        ordered = sorted(self.latencies)

        def quantile(share: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 4)

        return {
            "events_sent": self.events_sent,
            "resends_of_accepted": self.resends,
            "outbox_resends": self.outbox_resends,
            "late_events": self.maker.late,
            "answers": dict(self.statuses),
            "latency_202_seconds": {"p50": quantile(0.5), "p99": quantile(0.99)},
        }


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.1, float(value))
    except ValueError:
        return 1.0
