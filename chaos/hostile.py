"""The exposure attacks, each a request an attacker on the open internet can send.

One catalogue for `make chaos` (which requires no 5xx and no `/healthz` stall while they
run) and `make bench` (which times `/healthz` and a native write during them). Each attack
is bounded: how many in all and how many at once. What they replay: a form of 20,000 empty
fields on xAPI's alternate syntax, 16 MiB bodies without credentials, wrong Basic keys,
extensions nested 480 deep, a JWS header nested thousands deep, 2,500 statements in one
POST, a state import deriving 2,525 events, a crowd of `waitFor` reads of one user, and a
learner's token writing and reading for another learner on `/xapi`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.adapters.user_tokens import mint_user_token
from shared.xapi import write_multipart
from shared.xapi.parts import SIGNATURE_USAGE
from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET

__all__ = ["ATTACKS", "Attack", "Probed", "attack_all", "probe"]

_XAPI = {"X-Experience-API-Version": "1.0.3"}
_BASIC = "Basic " + base64.b64encode(f"bootstrap:{TEST_API_KEY}".encode()).decode()
_API_KEY = f"Bearer {TEST_API_KEY}"
_LEARNER, _VICTIM = "hostile-learner", "hostile-victim"


def _statement(user: str, **more: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://lms.example.com", "name": user}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": {"id": f"urn:chaos:hostile:{uuid.uuid4().hex[:8]}"},
        **more,
    }


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def _learner_token(user: str) -> str:
    token = mint_user_token(
        TEST_SIGNING_SECRET, "demo", user, timedelta(minutes=10), datetime.now(UTC)
    )
    return f"Bearer {token}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _wide_form(http: httpx.AsyncClient) -> int:
    response = await http.post(
        "/xapi/statements",
        params={"method": "PUT"},
        content="&".join(["f="] * 20_000),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return response.status_code


async def _huge_anonymous(http: httpx.AsyncClient) -> int:
    response = await http.post(
        "/xapi/statements",
        content=b" " * (16 * 1024 * 1024),
        headers={**_XAPI, "Content-Type": "application/json"},
    )
    return response.status_code


async def _wrong_key(http: httpx.AsyncClient) -> int:
    wrong = base64.b64encode(f"bootstrap:{uuid.uuid4().hex}".encode()).decode()
    response = await http.get(
        "/xapi/statements", headers={**_XAPI, "Authorization": f"Basic {wrong}"}
    )
    return response.status_code


async def _deep_extension(http: httpx.AsyncClient) -> int:
    statement = _statement("hostile-deep", result={"extensions": {"urn:x:deep": _nested(480)}})
    response = await http.post(
        "/xapi/statements", json=statement, headers={**_XAPI, "Authorization": _BASIC}
    )
    return response.status_code


async def _deep_jws(http: httpx.AsyncClient) -> int:
    statement = _statement("hostile-signer")
    header = "[" * 5_000 + "]" * 5_000
    token = f"{_b64url(header.encode())}.{_b64url(json.dumps(statement).encode())}.c2ln".encode()
    digest = hashlib.sha256(token).hexdigest()
    statement["attachments"] = [
        {
            "usageType": SIGNATURE_USAGE,
            "display": {"en-US": "Signature"},
            "contentType": "application/octet-stream",
            "length": len(token),
            "sha2": digest,
        }
    ]
    content_type, body = write_multipart(
        json.dumps(statement).encode(), [(digest, "application/octet-stream", token)]
    )
    response = await http.post(
        "/xapi/statements",
        content=body,
        headers={**_XAPI, "Authorization": _BASIC, "Content-Type": content_type},
    )
    return response.status_code


async def _many_statements(http: httpx.AsyncClient) -> int:
    statements = [_statement(f"hostile-many-{i % 50}") for i in range(2_500)]
    response = await http.post(
        "/xapi/statements", json=statements, headers={**_XAPI, "Authorization": _BASIC}
    )
    return response.status_code


async def _big_import(http: httpx.AsyncClient) -> int:
    items = {f"lesson-{i}": {"status": "completed"} for i in range(2_525)}
    response = await http.post(
        f"/v1/users/hostile-import-{uuid.uuid4().hex[:6]}/import",
        json={"state": {"items": items}},
        headers={"Authorization": _API_KEY},
    )
    return response.status_code


async def _waiting_read(http: httpx.AsyncClient) -> int:
    user = "hostile-waiter"
    event = {
        "eventId": uuid.uuid4().hex,
        "occurredAt": datetime.now(UTC).isoformat(),
        "clientId": "hostile",
        "type": "content.progressed",
        "payload": {"contentId": "lesson-1", "status": "in_progress"},
    }
    written = await http.put(
        f"/v1/users/{user}/progress", json={"events": [event]}, headers={"Authorization": _API_KEY}
    )
    token = written.json().get("consistencyToken", "") if written.status_code == 202 else ""
    response = await http.get(
        f"/v1/users/{user}/progress",
        params={"waitFor": token, "waitMs": 10_000},
        headers={"Authorization": _API_KEY},
    )
    return response.status_code


async def _other_learner(http: httpx.AsyncClient) -> int:
    """A learner's token posting `passed` for another learner, then reading their State."""
    headers = {**_XAPI, "Authorization": _learner_token(_LEARNER)}
    posted = await http.post("/xapi/statements", json=_statement(_VICTIM), headers=headers)
    if posted.status_code >= 500:
        return posted.status_code
    agent = json.dumps({"account": {"homePage": "https://lms.example.com", "name": _VICTIM}})
    read = await http.get(
        "/xapi/activities/state",
        params={"activityId": "urn:chaos:hostile", "agent": agent, "stateId": "s"},
        headers=headers,
    )
    return max(posted.status_code, read.status_code)


@dataclass(frozen=True)
class Attack:
    """One kind of hostile request: how to send it, how many in all and how many at once."""

    send: Callable[[httpx.AsyncClient], Awaitable[int]]
    total: int
    parallel: int


ATTACKS: dict[str, Attack] = {
    "form_20000_fields": Attack(_wide_form, 20, 4),
    "anonymous_16_mib": Attack(_huge_anonymous, 12, 6),
    "wrong_basic_key": Attack(_wrong_key, 200, 8),
    "extension_480_deep": Attack(_deep_extension, 20, 4),
    "jws_header_5000_deep": Attack(_deep_jws, 20, 4),
    "statements_2500": Attack(_many_statements, 4, 2),
    "import_2525_events": Attack(_big_import, 4, 2),
    "wait_for_crowd": Attack(_waiting_read, 24, 12),
    "token_for_other_learner": Attack(_other_learner, 20, 4),
}


async def _attack(base: str, attack: Attack) -> Counter[str]:
    """Send one kind of request `attack.total` times, `attack.parallel` at once; count answers.

    A dropped connection or a time-out is counted under the exception's name.
    """
    answers: Counter[str] = Counter()
    queue = iter(range(attack.total))
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def worker() -> None:
            for _ in queue:
                try:
                    answers[str(await attack.send(http))] += 1
                except httpx.HTTPError as error:
                    answers[type(error).__name__] += 1

        await asyncio.gather(*(worker() for _ in range(attack.parallel)))
    return answers


async def attack_all(base: str) -> dict[str, dict[str, int]]:
    """Every attack at once against the gateway at `base`: answers by status, per attack."""
    answers = await asyncio.gather(*(_attack(base, attack) for attack in ATTACKS.values()))
    return {name: dict(counts) for name, counts in zip(ATTACKS, answers, strict=True)}


@dataclass
class Probed:
    """Latencies (seconds) and answers of an open-loop probe."""

    latencies: list[float]
    statuses: Counter[str]

    def over(self, seconds: float) -> int:
        """How many probes took longer than `seconds` (a stall)."""
        return sum(1 for latency in self.latencies if latency > seconds)

    def quantile_ms(self, share: float) -> float:
        """The nearest-rank quantile in ms; NaN without probes."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))] * 1000


async def probe(
    send: Callable[[], Awaitable[int]], going: Callable[[], bool], interval: float
) -> Probed:
    """One request every `interval` s while `going()`, whatever the previous one is doing.

    Open loop, so a stalled server shows as latency rather than as fewer samples.
    """
    probed = Probed([], Counter())

    async def one() -> None:
        sent = time.perf_counter()
        try:
            probed.statuses[str(await send())] += 1
        except httpx.HTTPError as error:
            probed.statuses[type(error).__name__] += 1
        probed.latencies.append(time.perf_counter() - sent)

    pending: list[asyncio.Task[None]] = []
    while going():
        pending.append(asyncio.create_task(one()))
        await asyncio.sleep(interval)
    await asyncio.gather(*pending)
    return probed
