"""The exposure attacks, each a request an attacker on the open internet can send.

One catalogue for `make chaos` (which requires no 5xx and no `/healthz` stall while they
run) and `make bench` (which times `/healthz` and a native write during them). Each attack
is bounded: how many in all and how many at once. Most repeat the campaign's named requests
(`chaos.known_cases`) at once: a form of 20,000 empty fields on xAPI's alternate syntax,
16 MiB bodies without credentials, an extension nested 480 deep, a JWS payload nested 5,000
deep, 2,500 statements in one POST, a state import deriving 2,525 events, a learner's token
writing for another learner on `/xapi`; beside them, wrong Basic keys and a crowd of
`waitFor` reads of one user.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from chaos.known_cases import HostileRequest, cost_requests, hostile_requests, learner_requests
from shared.adapters.user_tokens import mint_user_token
from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET

__all__ = ["CLOSED", "Attack", "Probed", "attack_all", "attacks", "percentile", "probe"]

CLOSED = "closed"
"""The answer of an attack refused by closing its connection before its body was read."""

_XAPI = {"X-Experience-API-Version": "1.0.3"}
_API_KEY = f"Bearer {TEST_API_KEY}"
_LEARNER, _VICTIM = "hostile-learner", "hostile-victim"


def _named(request: HostileRequest) -> Callable[[httpx.AsyncClient], Awaitable[int]]:
    """Send one of the campaign's named requests (`chaos.known_cases`) as it is."""

    async def send(http: httpx.AsyncClient) -> int:
        response = await http.request(
            request.method, request.path, headers=request.headers, content=request.body
        )
        return response.status_code

    return send


async def _wrong_key(http: httpx.AsyncClient) -> int:
    wrong = base64.b64encode(f"bootstrap:{uuid.uuid4().hex}".encode()).decode()
    response = await http.get(
        "/xapi/statements", headers={**_XAPI, "Authorization": f"Basic {wrong}"}
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


@dataclass(frozen=True)
class Attack:
    """One kind of hostile request: how to send it, how many in all and how many at once."""

    send: Callable[[httpx.AsyncClient], Awaitable[int]]
    total: int
    parallel: int
    closes: bool = False
    """Refused from its headers with the connection closed while its body is still on the
    way: a client still sending sees the connection drop (counted as `closed`), not a 5xx."""


def attacks() -> dict[str, Attack]:
    """Every attack, by name: named requests of `chaos.known_cases`, and a few of its own.

    Beside the named requests: wrong Basic keys, and a crowd of `waitFor` reads of one user.
    """
    token = mint_user_token(
        TEST_SIGNING_SECRET, "demo", _LEARNER, timedelta(minutes=10), datetime.now(UTC)
    )
    named = {
        request.name: _named(request)
        for request in (
            *hostile_requests(_API_KEY),
            *cost_requests(_API_KEY),
            *learner_requests(_LEARNER, _VICTIM, f"Bearer {token}"),
        )
    }
    return {
        "form_20000_fields": Attack(
            named["xapi form of 20,000 empty fields (149 KB), no credentials"], 20, 4
        ),
        "anonymous_16_mib": Attack(
            named["16 MiB xapi statements body, no credentials"], 12, 6, closes=True
        ),
        "wrong_basic_key": Attack(_wrong_key, 200, 8),
        "extension_480_deep": Attack(named["xapi extension nested 480 deep"], 20, 4),
        "jws_payload_5000_deep": Attack(named["xapi JWS payload nested 5,000 deep"], 20, 4),
        # Signed in, but sent from the address the wrong keys above use up: once it is out of
        # failed logins and the key is not yet cached, the 429 comes from the headers and the
        # connection closes while the 750 KB body is still on its way (as for the anonymous
        # 16 MiB body).
        "statements_2500": Attack(named["xAPI POST of 2,500 statements"], 4, 2, closes=True),
        "import_2525_events": Attack(
            named["import deriving 2,525 events (25 quiz items, 2.3 KB)"], 4, 2
        ),
        "wait_for_crowd": Attack(_waiting_read, 24, 12),
        "token_for_other_learner": Attack(
            named["user token: statement for another learner"], 20, 4
        ),
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
                except (httpx.ReadError, httpx.WriteError) as error:
                    answers[CLOSED if attack.closes else type(error).__name__] += 1
                except httpx.HTTPError as error:
                    answers[type(error).__name__] += 1

        await asyncio.gather(*(worker() for _ in range(attack.parallel)))
    return answers


async def attack_all(base: str) -> dict[str, dict[str, int]]:
    """Every attack at once against the gateway at `base`: answers by status, per attack."""
    chosen = attacks()
    answers = await asyncio.gather(*(_attack(base, attack) for attack in chosen.values()))
    return {name: dict(counts) for name, counts in zip(chosen, answers, strict=True)}


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
        return percentile(self.latencies, share) * 1000


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; NaN when there are none.

    The one definition the campaign's probes and every bench figure use.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


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
