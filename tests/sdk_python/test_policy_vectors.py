"""The Python SDK against the client policy both SDKs share: clients/golden/policy-vectors.json.

Each vector runs three times: through `decide()` (the one place the SDK reads an answer), through
the waits (`Backoff` with the decided Retry-After, at the jitter's two ends and its middle), and
through a real client whose fake server answers the first request as the vector says, where
what the flusher then does is watched from outside.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from progress_sync_client import AsyncProgressClient, Backoff, DroppedEvent, SyncStatus
from progress_sync_client.policy import decide
from progress_sync_client.retry import BACKOFF_SECONDS, MAX_RETRY_AFTER

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "clients" / "golden" / "policy-vectors.json").read_text()
)
NOW = datetime.fromisoformat(VECTORS["now"])
Vector = dict[str, Any]


def named(vectors: list[Vector]) -> Any:
    return pytest.mark.parametrize("vector", vectors, ids=[v["name"] for v in vectors])


RETRIES = [v for v in VECTORS["vectors"] if v["expect"]["action"] == "retry"]


class Fixed(random.Random):
    """A random source that always says `value`: the jitter at a chosen point."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_schedule_and_the_cap_are_the_vectors() -> None:
    assert [s * 1000 for s in BACKOFF_SECONDS] == VECTORS["backoffMs"]
    assert VECTORS["maxRetryAfterMs"] == MAX_RETRY_AFTER * 1000
    assert Backoff().jitter == VECTORS["jitter"]


def _decided(vector: Vector) -> Any:
    return decide(
        vector["status"],
        vector.get("headers", {}).get("Retry-After"),
        NOW,
        batch_size=vector["batchSize"],
        renewed=vector.get("renewed", False),
    )


@named(VECTORS["vectors"])
def test_decide_names_the_vectors_action(vector: Vector) -> None:
    decision = _decided(vector)
    assert decision.action == vector["expect"]["action"]
    assert decision.reason == vector["expect"].get("reason")


@named(RETRIES)
@pytest.mark.parametrize("point", [0.0, 0.5, 0.999999])
def test_the_wait_before_a_retry(vector: Vector, point: float) -> None:
    expect, jitter = vector["expect"], VECTORS["jitter"]
    retry_after = _decided(vector).retry_after
    backoff = Backoff(rng=Fixed(point), failures=vector["attempt"] - 1)
    spread = 1 - jitter + 2 * jitter * point if expect.get("jitter") else 1
    assert backoff.next_delay(retry_after) * 1000 == pytest.approx(expect["delayMs"] * spread)


class Watched:
    """A client whose fake server answers the vector's status, then accepts everything."""

    def __init__(self, vector: Vector, tmp_path: Path) -> None:
        self.vector = vector
        self.requests: list[int] = []
        self.tokens: list[str] = []
        self.dropped: list[DroppedEvent] = []
        self.statuses: list[SyncStatus] = []
        repeats = 2 if vector.get("renewed") else 1
        self.client = AsyncProgressClient(
            "http://gateway.test",
            token_provider=self.token,
            outbox=tmp_path / "outbox.sqlite3",
            linger=0.0,
            transport=httpx.MockTransport(self.answer),
            backoff=Backoff(rng=Fixed(0.5), failures=vector["attempt"] - 1),
            on_dropped=self.dropped.append,
            on_status=self.statuses.append,
            close_timeout=0,
        )
        self.scripted = repeats

    def token(self) -> str:
        self.tokens.append(f"token-{len(self.tokens)}")
        return self.tokens[-1]

    def answer(self, request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content)["events"]
        self.requests.append(len(events))
        if len(self.requests) > self.scripted:
            results = [{"eventId": e["eventId"], "status": "accepted"} for e in events]
            return httpx.Response(
                202, json={"accepted": len(events), "rejected": 0, "results": results}
            )
        status = self.vector["status"]
        if status is None:
            raise httpx.ConnectError("unreachable", request=request)
        if status == 202:
            results = [{"eventId": e["eventId"], "status": "accepted"} for e in events]
            return httpx.Response(
                202, json={"accepted": len(events), "rejected": 0, "results": results}
            )
        retry_after = self.vector.get("headers", {}).get("Retry-After")
        if retry_after is not None and "GMT" in retry_after:
            retry_after = None  # dates need the vectors' clock: the parts test covers them
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return httpx.Response(
            status, headers=headers, json={"error": {"code": "x", "message": "x"}}
        )

    def action(self) -> dict[str, Any]:
        """What the flusher did, named as the vectors name it."""
        first = self.requests[0]
        if self.dropped:
            reasons = {d.reason for d in self.dropped}
            assert len(reasons) == 1
            return {"action": "drop_and_report", "reason": reasons.pop()}
        if any(s.state == "error" for s in self.statuses):
            return {"action": "error"}
        waits = [s.retry_in_ms for s in self.statuses if s.state == "pending"]
        if waits:
            return {"action": "retry", "delayMs": waits[0]}
        if len(self.tokens) == 2:
            return {"action": "renew_token"}
        if len(self.requests) > 1 and self.requests[1] < first:
            return {"action": "split"}
        return {"action": "accept"}


@named([v for v in VECTORS["vectors"] if "GMT" not in v.get("headers", {}).get("Retry-After", "")])
async def test_the_client_does_what_the_vector_says(vector: Vector, tmp_path: Path) -> None:
    watched = Watched(vector, tmp_path)
    client = watched.client
    async with client:
        events = [client.events.onboarding_reset() for _ in range(vector["batchSize"])]
        await client.track("u1", *events)
        await client.flush(timeout=0.3)
    action, expect = watched.action(), vector["expect"]
    if expect["action"] == "retry":  # the client's jitter sits at its middle: no spread
        assert action == {"action": "retry", "delayMs": pytest.approx(expect["delayMs"], abs=1)}
    else:
        assert action == expect
