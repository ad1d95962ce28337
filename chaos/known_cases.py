"""Hostile requests the issues name, sent once per run before the random rounds.

Hypothesis finds such values by chance; these make sure every run tries the ones issue 14
describes (a few hundred `[` in an interaction state, deep extensions, huge numbers, lone
surrogates, duplicate keys), each in an otherwise valid write for a user of its own, so
the end check shows exactly which of them poison a snapshot; and the ones issue 23 item 3
describes (a user token on `/xapi` naming another learner), each with the answer it must get.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

__all__ = ["KnownRequest", "XapiCase", "known_cases", "known_requests", "learner_cases"]

_DEPTHS = (100, 150, 190, 200, 220, 250, 300, 1000)


def _event(event_id: str, payload: str) -> str:
    return (
        f'{{"eventId": "{event_id}", "occurredAt": "2026-11-20T10:00:00Z", '
        f'"clientId": "chaos", "type": "content.progressed", "payload": {payload}}}'
    )


def _progress(extra: str = "", content: str = '"item-1"', score: str = "1") -> str:
    return f'{{"contentId": {content}, "status": "in_progress", "score": {score}{extra}}}'


def _state(value: str) -> str:
    return f', "interaction": {{"interactionId": "q1", "state": {{"v": {value}}}}}'


def _payloads() -> list[tuple[str, str]]:
    cases = [
        (f"state nested {depth} deep", _progress(_state("[" * depth + "1" + "]" * depth)))
        for depth in _DEPTHS
    ]
    cases.append(
        ("state objects nested 200 deep", _progress(_state('{"a":' * 200 + "1" + "}" * 200)))
    )
    cases.append(
        ("extensions nested 200 deep", _progress(', "extensions": ' + "[" * 200 + "]" * 200))
    )
    cases += [
        ("score 1e999999", _progress(score="1e999999")),
        ("score with 400 digits", _progress(score="1" * 400)),
        ("score with 5000 digits", _progress(score="1" * 5000)),
        ("score NaN", _progress(score="NaN")),
        ("contentId lone surrogate", _progress(content='"\\ud800"')),
        ("contentId control character", _progress(content='"a\\u0001b"')),
        ("state with duplicate keys", _progress(_state('{"k": 1, "k": [2]}'))),
        ("state 4096 bytes wide", _progress(_state(json.dumps("x" * 4080)))),
    ]
    return cases


def known_cases(run_tag: str) -> list[tuple[str, str, bytes]]:
    """(case name, userId, PUT body) for each case; eventIds are unique to `run_tag`."""
    found: list[tuple[str, str, bytes]] = []
    for index, (name, payload) in enumerate(_payloads()):
        event_id = f"known-{run_tag}-{index}"
        body = f'{{"events": [{_event(event_id, payload)}]}}'
        found.append((name, f"fuzz-known-{index:02d}", body.encode()))
    duplicate_envelope = (
        f'{{"events": [], "events": [{_event(f"known-{run_tag}-dup", _progress())}]}}'
    )
    found.append(
        ("envelope with duplicate events key", "fuzz-known-dup", duplicate_envelope.encode())
    )
    return found


@dataclass(frozen=True)
class KnownRequest:
    """A named hostile request to one route, and the status it must get."""

    name: str
    route: str
    user: str
    body: bytes
    expect: int
    headers: tuple[tuple[str, str], ...] = ()


def _quiz_state(items: int) -> dict[str, object]:
    quiz = {"status": "completed", "quiz": {"attempts": 100, "bestScore": 1, "maxScore": 2}}
    return {"items": {f"q-{n}": quiz for n in range(items)}}


def _statements(count: int, user: str) -> list[dict[str, object]]:
    actor = {"account": {"homePage": "https://lms.example.com", "name": user}}
    return [
        {
            "id": str(uuid.UUID(int=n + 1)),
            "actor": actor,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": f"urn:chaos:activity:{n}"},
        }
        for n in range(count)
    ]


def known_requests() -> list[KnownRequest]:
    """Requests of issue 23 whose cost once grew with what they derive: each must get a 413."""
    return [
        KnownRequest(
            "import deriving 2,525 events (25 quiz items, 2.3 KB)",
            "POST /v1/users/{userId}/import",
            "fuzz-known-import",
            json.dumps({"state": _quiz_state(25)}).encode(),
            413,
        ),
        KnownRequest(
            "xAPI POST of 2,500 statements",
            "POST /xapi/statements",
            "fuzz-known-xapi",
            json.dumps(_statements(2500, "fuzz-known-xapi")).encode(),
            413,
            (("X-Experience-API-Version", "1.0.3"),),
        ),
    ]


@dataclass(frozen=True)
class XapiCase:
    """A named `/xapi` request sent with a learner's user token, and the status it must get."""

    name: str
    method: str
    path: str
    expected: int
    params: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def learner_cases(own: str, other: str) -> list[XapiCase]:
    """Requests of `own`'s user token that name `other` (or write shared documents): 403."""

    def agent(user: str) -> str:
        return json.dumps({"account": {"homePage": "https://fuzz.example", "name": user}})

    def statement(actor: object, target: object | None = None) -> dict[str, object]:
        found: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "actor": actor,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": "urn:fuzz:activity"},
        }
        if target is not None:
            found["verb"] = {"id": "http://adlnet.gov/expapi/verbs/voided"}
            found["object"] = target
        return found

    def body(value: object) -> bytes:
        return json.dumps(value).encode()

    theirs = json.loads(agent(other))
    group = {"objectType": "Group", "member": [json.loads(agent(own)), theirs]}
    state = {"activityId": "urn:fuzz:activity", "agent": agent(other), "stateId": "s"}
    unknown = {"objectType": "StatementRef", "id": str(uuid.uuid4())}
    return [
        XapiCase(
            "user token: statement for another learner",
            "POST",
            "/xapi/statements",
            403,
            body=body(statement(theirs)),
        ),
        XapiCase(
            "user token: batch ending with another learner",
            "POST",
            "/xapi/statements",
            403,
            body=body([statement(json.loads(agent(own))), statement(theirs)]),
        ),
        XapiCase(
            "user token: statement by a Group",
            "POST",
            "/xapi/statements",
            403,
            body=body(statement(group)),
        ),
        XapiCase(
            "user token: void a statement not its own",
            "POST",
            "/xapi/statements",
            403,
            body=body(statement(json.loads(agent(own)), unknown)),
        ),
        XapiCase(
            "user token: read another learner's statements",
            "GET",
            "/xapi/statements",
            403,
            params={"agent": agent(other)},
        ),
        XapiCase(
            "user token: write another learner's State",
            "PUT",
            "/xapi/activities/state",
            403,
            params=state,
            body=b"{}",
        ),
        XapiCase(
            "user token: delete another learner's State",
            "DELETE",
            "/xapi/activities/state",
            403,
            params={k: v for k, v in state.items() if k != "stateId"},
        ),
        XapiCase(
            "user token: another learner's Agent Profile",
            "PUT",
            "/xapi/agents/profile",
            403,
            params={"agent": agent(other), "profileId": "p"},
            body=b"{}",
        ),
        XapiCase(
            "user token: write an Activity Profile",
            "PUT",
            "/xapi/activities/profile",
            403,
            params={"activityId": "urn:fuzz:activity", "profileId": "p"},
            body=b"{}",
        ),
    ]
