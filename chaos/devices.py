"""Devices that follow `since`: each pages a user's events from its last cursor, as the SDKs do.

A device must get every stored event of its user exactly once: a cursor never skips, and
never hands out an event twice, whatever the consumer group does meanwhile.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.services import TEST_API_KEY

__all__ = ["Device"]

_PAGE = 500
_PAUSE_SECONDS = 0.5


@dataclass
class Device:
    """One device of `user`: its cursor and every eventId it was handed, with counts."""

    base_url: str
    user: str
    cursor: str = "0"
    received: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    async def follow(self, done: asyncio.Event) -> None:
        """Pull pages until `done`, then on until the server says nothing is left."""
        headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
        async with httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10) as http:
            while not done.is_set():
                if not await self._page(http):
                    await asyncio.sleep(_PAUSE_SECONDS)
            while await self._page(http):
                pass

    async def _page(self, http: httpx.AsyncClient) -> bool:
        """Read one page; True when the server has more right away."""
        try:
            answer = await http.get(
                f"/v1/users/{self.user}/progress", params={"since": self.cursor, "limit": _PAGE}
            )
        except httpx.TransportError as error:
            self.errors[type(error).__name__] += 1
            return False
        if answer.status_code != 200:
            self.errors[str(answer.status_code)] += 1
            return False
        body = answer.json()
        self.pages += 1
        self.received.update(event["eventId"] for event in body["events"])
        self.cursor = body["cursor"]
        return bool(body["hasMore"])

    def judge(self, stored: set[str]) -> dict[str, Any]:
        """Compare with the user's stored eventIds: what it missed, got twice, or got unstored."""
        twice = sorted(event for event, count in self.received.items() if count > 1)
        return {
            "received": sum(self.received.values()),
            "missed": sorted(stored - set(self.received)),
            "twice": twice,
            "unknown": sorted(set(self.received) - stored),
            "pages": self.pages,
            "errors": dict(self.errors),
        }
