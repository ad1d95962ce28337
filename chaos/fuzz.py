"""Hostile requests through every route of the gateway; every 5xx is a finding.

For each route Hypothesis draws a credential (valid API key, the user's own token, none,
garbage, expired, signed with the wrong secret, another user's, a trusted issuer's token,
a JWT with hostile header and claims: `chaos.fuzz_tokens`), path and query values,
sometimes an odd method or odd headers, and a hostile body (`chaos.fuzz_bodies`). Routes
take turns in short rounds until the time is up, each round with its own seed derived
from the run's seed, so a run can be repeated. A 5xx is counted per route and status, and
the first few bodies that caused it are saved under the report directory. The one 5xx that
is an answer, not a fault, is `/readyz`'s documented 503 naming a dependency that did not
answer in time (the campaign loads the database on purpose).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from chaos.fuzz_bodies import bodies, fuzz_text
from chaos.fuzz_tokens import ChaosIdentity, fuzzed_tokens
from chaos.known_cases import (
    HostileRequest,
    catalog_requests,
    cost_requests,
    hostile_requests,
    insight_requests,
    known_cases,
    learner_requests,
    stream_requests,
)
from chaos.ledger import Ledger
from chaos.routes import Route
from shared.adapters.user_tokens import mint_user_token
from tests.support.services import TEST_API_KEY, TEST_SIGNING_SECRET

__all__ = ["FUZZ_USERS", "Fuzzer"]

FUZZ_USERS = ("fuzz-user", "fuzz-other")
_ODD_METHODS = ("PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "BREW", "get")
_CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "APPLICATION/JSON",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
)
_ODD_HEADER_VALUES: tuple[str | bytes, ...] = (b"\xff\xfe", b"caf\xe9", "x" * 9000, "a\tb", "../x")
_CREDENTIAL_CHOICES = (
    *("api-key",) * 4,
    *("user-token",) * 2,
    "other-user-token",
    "expired-token",
    "wrong-secret",
    "unknown-tenant",
    "issuer-token",
    "fuzzed-token",
    "garbage",
    "basic",
    "none",
)
_SAVED_PER_FINDING = 3
_USER_WRITE = "PUT /v1/users/{userId}/progress"
_USER_READ = "GET /v1/users/{userId}/progress"
_ROUND_EXAMPLES = 12


def _credentials(identity: ChaosIdentity) -> dict[str, str | None]:
    now = datetime.now(UTC)
    day = timedelta(days=1)
    own = mint_user_token(TEST_SIGNING_SECRET, "demo", FUZZ_USERS[0], day, now)
    return {
        "api-key": f"Bearer {TEST_API_KEY}",
        "user-token": f"Bearer {own}",
        "other-user-token": "Bearer "
        + mint_user_token(TEST_SIGNING_SECRET, "demo", FUZZ_USERS[1], day, now),
        "expired-token": "Bearer "
        + mint_user_token(TEST_SIGNING_SECRET, "demo", FUZZ_USERS[0], day, now - 2 * day),
        "wrong-secret": "Bearer " + mint_user_token("x" * 40, "demo", FUZZ_USERS[0], day, now),
        "unknown-tenant": "Bearer "
        + mint_user_token(TEST_SIGNING_SECRET, "nope", FUZZ_USERS[0], day, now),
        "issuer-token": f"Bearer {identity.valid(FUZZ_USERS[0])}",
        "fuzzed-token": None,
        "garbage": "Bearer not-a-key-" + "z" * 300,
        "basic": "Basic dXNlcjpwYXNz",
        "none": None,
    }


@st.composite
def _request(
    draw: st.DrawFn, route: Route, credentials: dict[str, str | None], identity: ChaosIdentity
) -> dict[str, Any]:
    """One request; its simplest form (what Hypothesis tries first) is a well-formed one."""
    path = route.path
    values: dict[str, str] = {}
    for name in route.path_params:
        value = draw(st.sampled_from(FUZZ_USERS) | fuzz_text.filter(bool))
        if name != "userId" and draw(st.booleans()):
            value = draw(st.sampled_from(["course-a", "fuzz-course", "a.b$c"]))
        values[name] = value
        path = path.replace("{" + name + "}", quote(value.encode("utf-8", "surrogatepass"), ""))
    params = {
        name: draw(st.integers(-5, 10**6).map(str) | fuzz_text)
        for name in route.query_params
        if draw(st.booleans())
    }
    method = route.method
    if draw(st.integers(0, 9)) == 9:
        method = draw(st.sampled_from(_ODD_METHODS))
    content_type = "application/json"
    if draw(st.integers(0, 4)) == 4:
        content_type = draw(st.sampled_from(_CONTENT_TYPES))
    headers: dict[str, str | bytes] = {"Content-Type": content_type}
    choice = draw(st.sampled_from(_CREDENTIAL_CHOICES))
    authorization = credentials[choice]
    if choice == "fuzzed-token":
        authorization = "Bearer " + draw(fuzzed_tokens(identity))
    if authorization is not None:
        headers["Authorization"] = authorization
    if draw(st.integers(0, 9)) == 9:
        name = draw(st.sampled_from(["X-Request-ID", "Content-Type", "Accept", "Idempotency-Key"]))
        headers[name] = draw(st.sampled_from(_ODD_HEADER_VALUES))
    body = b""
    if route.has_body or draw(st.integers(0, 4)) == 4:
        body = draw(bodies(list(route.seeds)))
    return {
        "method": method,
        "path": route.origin + path,
        "params": params,
        "headers": headers,
        "body": body,
        "path_values": values,
    }


def _named_request(
    route: Route, user: str, body: bytes, credentials: dict[str, str | None]
) -> dict[str, Any]:
    """A named case's request to `route` for `user`, with the API key."""
    return {
        "method": route.method,
        "path": route.origin + route.path.replace("{userId}", user),
        "params": {},
        "headers": {
            "Content-Type": "application/json",
            "Authorization": credentials["api-key"] or "",
        },
        "body": body,
        "path_values": {"userId": user},
    }


def _readiness_answer(route: Route, response: httpx.Response) -> bool:
    """True for `/readyz`'s 503 that names a dependency found unavailable: its documented answer."""
    if route.path != "/readyz" or response.status_code != 503:
        return False
    try:
        checks = response.json().get("checks", {})
    except ValueError:
        return False
    return isinstance(checks, dict) and "unavailable" in checks.values()


@dataclass
class Fuzzer:
    """Runs the rounds and keeps the counts; `stop` ends it early (Ctrl-C)."""

    routes: list[Route]
    report_dir: Path
    ledger: Ledger
    run_seed: int
    identity: ChaosIdentity
    stop: threading.Event = field(default_factory=threading.Event)
    tried: Counter[str] = field(default_factory=Counter)
    bodies_tried: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors_5xx: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    saved: list[str] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)
    forgeries_not_refused: list[str] = field(default_factory=list)
    known_mismatches: dict[str, str] = field(default_factory=dict)

    def run(self, seconds: float) -> None:
        """Fuzz every route in turn until `seconds` have passed."""
        deadline = time.monotonic() + seconds
        credentials = _credentials(self.identity)
        round_number = 0
        with httpx.Client(timeout=15.0) as client:
            self._known(client, credentials)
            self._forgeries(client)
            while time.monotonic() < deadline and not self.stop.is_set():
                for route in self.routes:
                    if time.monotonic() >= deadline or self.stop.is_set():
                        break
                    self._round(client, route, credentials, round_number, deadline)
                round_number += 1

    def _known(self, client: httpx.Client, credentials: dict[str, str | None]) -> None:
        """The issues' named cases, each once.

        The hardening values go through the single-user write route; then issue 23's named
        requests, each to its own path, must each get their own answer (another fails the run).
        """
        writes = next((r for r in self.routes if r.label == _USER_WRITE), None)
        if writes is None:
            return
        for name, user, body in known_cases(str(self.run_seed)):
            request = _named_request(writes, user, body, credentials)
            self.known[name] = f"{user}: {self._send(client, writes, request)}"
        api_key, own = credentials["api-key"] or "", credentials["user-token"] or ""
        named = [
            *hostile_requests(api_key),
            *cost_requests(api_key),
            *catalog_requests(api_key),
            *learner_requests(*FUZZ_USERS, own),
            *stream_requests(*FUZZ_USERS, api_key, own),
            *insight_requests(api_key, own),
        ]
        for hostile in named:
            answered = self._send(client, writes, _hostile(writes, hostile), hostile.name)
            status = answered.split(" ", 1)[0]
            self.known[hostile.name] = f"expected {hostile.expected}: {answered}"
            if status != str(hostile.expected):
                self.known_mismatches[hostile.name] = status

    def _forgeries(self, client: httpx.Client) -> None:
        """Each named forged token, once, on the user's read route: it must be answered 401."""
        route = next((r for r in self.routes if r.label == _USER_READ), None)
        if route is None:
            return
        for name, token in self.identity.forgeries(FUZZ_USERS[0]).items():
            request = {
                "method": "GET",
                "path": route.origin + route.path.replace("{userId}", FUZZ_USERS[0]),
                "params": {},
                "headers": {"Authorization": f"Bearer {token}"},
                "body": b"",
                "path_values": {"userId": FUZZ_USERS[0]},
            }
            outcome = self._send(client, route, request)
            self.known[name] = f"{FUZZ_USERS[0]}: {outcome}"
            if not outcome.startswith("401 "):
                self.forgeries_not_refused.append(f"{name}: {outcome}")

    def _round(
        self,
        client: httpx.Client,
        route: Route,
        credentials: dict[str, str | None],
        round_number: int,
        deadline: float,
    ) -> None:
        digest = hashlib.sha256(f"{self.run_seed}/{route.label}/{round_number}".encode())

        @seed(int.from_bytes(digest.digest()[:8], "big"))
        @settings(
            max_examples=_ROUND_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(_request(route, credentials, self.identity))
        def attempt(request: dict[str, Any]) -> None:
            if time.monotonic() < deadline and not self.stop.is_set():
                self._send(client, route, request)

        attempt()

    def _send(
        self, client: httpx.Client, route: Route, request: dict[str, Any], label: str = ""
    ) -> str:
        """Send one request and count its answer, under `label` or the route's; one line back."""
        label = label or f"{request['method']} {route.path}"
        self.tried[label] += 1
        if request["body"]:
            self.bodies_tried += 1
        try:
            response = _exchange(client, route, request)
        except (httpx.HTTPError, UnicodeError, ValueError) as error:
            self.transport_errors[f"{label}: {type(error).__name__}"] += 1
            return type(error).__name__
        self.statuses[str(response.status_code)] += 1
        if response.status_code >= 500 and not _readiness_answer(route, response):
            finding = f"{label} -> {response.status_code}"
            self.errors_5xx[finding] += 1
            if self.errors_5xx[finding] <= _SAVED_PER_FINDING:
                self._save(finding, request, response)
        elif response.status_code == 202:
            self._remember(route, request, response)
        return f"{response.status_code} {response.text[:160]}"

    def _remember(self, route: Route, request: dict[str, Any], response: httpx.Response) -> None:
        """Accepted fuzz events are promises too: the end check covers them."""
        try:
            events = json.loads(request["body"])["events"]
            answer = response.json()
        except (ValueError, KeyError, TypeError, RecursionError):
            return
        if route.label == _USER_WRITE:
            user = request["path_values"].get("userId", "")
            self.ledger.record([(user, raw) for raw in events], answer, "fuzz")
        elif route.label == "POST /v1/events" and all(isinstance(e, dict) for e in events):
            batch = [(str(raw.get("userId")), raw) for raw in events]
            self.ledger.record(batch, answer, "fuzz")

    def _save(self, finding: str, request: dict[str, Any], response: httpx.Response) -> None:
        name = f"5xx-{len(self.saved):03d}"
        folder = self.report_dir / "fuzz-5xx"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.body").write_bytes(request["body"])
        meta = {
            "finding": finding,
            "method": request["method"],
            "path": request["path"],
            "params": request["params"],
            "headers": {k: repr(v)[:300] for k, v in request["headers"].items()},
            "body_bytes": len(request["body"]),
            "status": response.status_code,
            "answer": response.text[:2000],
        }
        (folder / f"{name}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        self.saved.append(name)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "routes": [route.label for route in self.routes],
            "requests_per_route": dict(self.tried),
            "requests": sum(self.tried.values()),
            "bodies_tried": self.bodies_tried,
            "answers": dict(self.statuses),
            "5xx": dict(self.errors_5xx),
            "5xx_total": sum(self.errors_5xx.values()),
            "client_side_errors": dict(self.transport_errors),
            "saved_samples": self.saved,
            "known_cases": self.known,
            "forgeries_not_refused": self.forgeries_not_refused,
            "known_mismatches": self.known_mismatches,
        }


def _exchange(client: httpx.Client, route: Route, request: dict[str, Any]) -> httpx.Response:
    """Send a request; of an event stream that opened, only its first chunk is read."""
    arguments = {
        "params": request["params"],
        "headers": request["headers"],
        "content": request["body"],
    }
    if not route.streams:
        return client.request(request["method"], request["path"], **arguments)
    with client.stream(request["method"], request["path"], **arguments) as response:
        if response.status_code != 200:
            response.read()
            return response
        head = next(response.iter_bytes(), b"")
    return httpx.Response(200, content=head, request=response.request)


def _hostile(route: Route, hostile: HostileRequest) -> dict[str, Any]:
    """A named hostile request in the fuzzer's request shape, sent to `route`'s server.

    Its query goes into `params`: the client replaces a URL's query with the `params` given.
    """
    path, _, query = hostile.path.partition("?")
    return {
        "method": hostile.method,
        "path": route.origin + path,
        "params": dict(parse_qsl(query, keep_blank_values=True)),
        "headers": hostile.headers,
        "body": hostile.body,
        "path_values": {},
    }
