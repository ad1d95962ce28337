"""Hostile values and requests the hardening issues name, sent once per run before the rounds.

Hypothesis finds such values by chance; these make sure every run tries the ones issue 14
describes (a few hundred `[` in an interaction state, deep extensions, huge numbers, lone
surrogates, duplicate keys), each in an otherwise valid write for a user of its own, so
the end check shows exactly which of them poison a snapshot. Issue 23's requests (huge
bodies without credentials, a 20,000-field form, deep xAPI values, requests deriving more
events than one request may, a learner's token naming another learner on `/xapi`) and
catalog DELETEs that must queue no job each have the one answer they must get; another
answer fails the run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from shared.xapi import write_multipart

__all__ = [
    "HostileRequest",
    "catalog_requests",
    "cost_requests",
    "hostile_requests",
    "insight_requests",
    "known_cases",
    "learner_requests",
    "stream_requests",
]

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
class HostileRequest:
    """A named request and the status the gateway must answer it with."""

    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    expected: int


_XAPI = {"X-Experience-API-Version": "1.0.3"}
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON = {"Content-Type": "application/json"}
_BIG = 16 * 1024 * 1024


def _statement(**more: object) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": "mailto:chaos@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "urn:chaos:activity"},
        **more,
    }


def _deep_jws_statement() -> tuple[dict[str, str], bytes]:
    """A statement whose signature's payload nests 5,000 objects deep, as multipart."""
    nested = base64.urlsafe_b64encode(b'{"a":' * 5000 + b"1" + b"}" * 5000).rstrip(b"=")
    token = b"eyJhbGciOiJSUzI1NiJ9." + nested + b".c2ln"
    digest = hashlib.sha256(token).hexdigest()
    signature = {
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en-US": "Signature"},
        "contentType": "application/octet-stream",
        "length": len(token),
        "sha2": digest,
    }
    statement = json.dumps(_statement(attachments=[signature])).encode()
    content_type, body = write_multipart(statement, [(digest, "application/octet-stream", token)])
    return {"Content-Type": content_type}, body


def hostile_requests(authorization: str) -> list[HostileRequest]:
    """Issue 23's named requests; `authorization` is a valid tenant key's header value."""
    deep: object = 1
    for _ in range(480):
        deep = {"a": deep}
    extension = _statement(result={"extensions": {"urn:chaos:deep": deep}})
    jws_headers, jws_body = _deep_jws_statement()
    signed_in = {"Authorization": authorization, **_XAPI}
    return [
        HostileRequest(
            "xapi form of 20,000 empty fields (149 KB), no credentials",
            "POST",
            "/xapi/statements?method=PUT",
            {**_FORM, **_XAPI},
            "&".join(f"f{index}=" for index in range(20_000)).encode(),
            413,
        ),
        HostileRequest(
            "xapi form of 20,000 empty fields (40 KB), no credentials",
            "POST",
            "/xapi/statements?method=PUT",
            {**_FORM, **_XAPI},
            b"&".join([b"="] * 20_000),
            400,
        ),
        HostileRequest(
            "xapi form of 51 fields, no credentials",
            "POST",
            "/xapi/statements?method=GET",
            {**_FORM, **_XAPI},
            "&".join(f"f{index}=" for index in range(51)).encode(),
            400,
        ),
        HostileRequest(
            "16 MiB xapi statements body, no credentials",
            "POST",
            "/xapi/statements",
            {**_JSON, **_XAPI},
            b" " * _BIG,
            401,
        ),
        HostileRequest(
            "16 MiB progress body, no credentials",
            "PUT",
            "/v1/users/fuzz-known-big/progress",
            _JSON,
            b" " * _BIG,
            401,
        ),
        HostileRequest(
            "xapi extension nested 480 deep",
            "POST",
            "/xapi/statements",
            {**_JSON, **signed_in},
            json.dumps(extension).encode(),
            400,
        ),
        HostileRequest(
            "xapi JWS payload nested 5,000 deep",
            "POST",
            "/xapi/statements",
            {**jws_headers, **signed_in},
            jws_body,
            400,
        ),
    ]


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


def cost_requests(authorization: str) -> list[HostileRequest]:
    """Requests of issue 23 whose cost once grew with what they derive: each must get a 413."""
    signed_in = {"Authorization": authorization, **_JSON}
    return [
        HostileRequest(
            "import deriving 2,525 events (25 quiz items, 2.3 KB)",
            "POST",
            "/v1/users/fuzz-known-import/import",
            signed_in,
            json.dumps({"state": _quiz_state(25)}).encode(),
            413,
        ),
        HostileRequest(
            "xAPI POST of 2,500 statements",
            "POST",
            "/xapi/statements",
            {**signed_in, **_XAPI},
            json.dumps(_statements(2500, "fuzz-known-xapi")).encode(),
            413,
        ),
    ]


def catalog_requests(authorization: str) -> list[HostileRequest]:
    """Catalog DELETEs (`authorization`: an API key) that must queue no catalog job."""
    signed_in = {"Authorization": authorization}
    return [
        HostileRequest(
            "catalog DELETE of a course the catalog lacks",
            "DELETE",
            f"/v1/catalog/courses/fuzz-absent-{uuid.uuid4().hex[:8]}",
            signed_in,
            b"",
            404,
        ),
        HostileRequest(
            "catalog DELETE of a courseId with a space",
            "DELETE",
            "/v1/catalog/courses/fuzz%20course",
            signed_in,
            b"",
            422,
        ),
    ]


def learner_requests(own: str, other: str, authorization: str) -> list[HostileRequest]:
    """`own`'s user token (`authorization`) naming `other`, or writing shared documents: 403."""

    def agent(user: str) -> dict[str, object]:
        return {"account": {"homePage": "https://fuzz.example", "name": user}}

    def statement(actor: object, target: object | None = None) -> bytes:
        found: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "actor": actor,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": "urn:fuzz:activity"},
        }
        if target is not None:
            found["verb"] = {"id": "http://adlnet.gov/expapi/verbs/voided"}
            found["object"] = target
        return json.dumps(found).encode()

    def request(name: str, method: str, path: str, body: bytes = b"") -> HostileRequest:
        headers = {"Authorization": authorization, **_JSON, **_XAPI}
        return HostileRequest(f"user token: {name}", method, path, headers, body, 403)

    theirs = agent(other)
    group = {"objectType": "Group", "member": [agent(own), theirs]}
    state = {"activityId": "urn:fuzz:activity", "agent": json.dumps(theirs), "stateId": "s"}
    states = f"/xapi/activities/state?{urlencode(state)}"
    all_states = {k: v for k, v in state.items() if k != "stateId"}
    shared_profile = {"activityId": "urn:fuzz:activity", "profileId": "p"}
    unknown = {"objectType": "StatementRef", "id": str(uuid.uuid4())}
    both = json.dumps([json.loads(statement(agent(own))), json.loads(statement(theirs))])
    return [
        request("statement for another learner", "POST", "/xapi/statements", statement(theirs)),
        request("batch ending with another learner", "POST", "/xapi/statements", both.encode()),
        request("statement by a Group", "POST", "/xapi/statements", statement(group)),
        request(
            "void a statement not its own",
            "POST",
            "/xapi/statements",
            statement(agent(own), unknown),
        ),
        request(
            "read another learner's statements",
            "GET",
            f"/xapi/statements?{urlencode({'agent': json.dumps(theirs)})}",
        ),
        request("write another learner's State", "PUT", states, b"{}"),
        request(
            "delete another learner's State",
            "DELETE",
            f"/xapi/activities/state?{urlencode(all_states)}",
        ),
        request(
            "another learner's Agent Profile",
            "PUT",
            f"/xapi/agents/profile?{urlencode({'agent': json.dumps(theirs), 'profileId': 'p'})}",
            b"{}",
        ),
        request(
            "write an Activity Profile",
            "PUT",
            f"/xapi/activities/profile?{urlencode(shared_profile)}",
            b"{}",
        ),
    ]


def stream_requests(own: str, other: str, key: str, own_token: str) -> list[HostileRequest]:
    """Bad requests for a live stream, each answered before a stream opens.

    `key` is a tenant key's `Authorization` value, `own_token` `own`'s user token's.
    """
    stream = f"/v1/users/{own}/progress/stream"
    with_key = {"Authorization": key}
    return [
        HostileRequest(
            "stream: Last-Event-ID not a cursor",
            "GET",
            stream,
            {**with_key, "Last-Event-ID": "abc"},
            b"",
            400,
        ),
        HostileRequest(
            "stream: Last-Event-ID of 4,000 digits",
            "GET",
            stream,
            {**with_key, "Last-Event-ID": "9" * 4000},
            b"",
            400,
        ),
        HostileRequest("stream: since=-1", "GET", f"{stream}?since=-1", with_key, b"", 400),
        HostileRequest("stream: no credentials", "GET", stream, {}, b"", 401),
        HostileRequest(
            "stream: user token for another user",
            "GET",
            f"/v1/users/{other}/progress/stream",
            {"Authorization": own_token},
            b"",
            403,
        ),
    ]


INSIGHTS_COURSE = "fuzz-insights-course"
"""A course the named insight cases read; no run puts it in the catalog."""


def insight_requests(authorization: str, learner: str) -> list[HostileRequest]:
    """Issue 28's bad reads of the insights, each with its answer.

    `authorization` is a tenant key's header value, `learner` a user token's: the figures
    cover every learner, so no user token may read them.
    """
    key = {"Authorization": authorization}
    course = f"/v1/courses/{INSIGHTS_COURSE}/insights"

    def bad(name: str, path: str) -> HostileRequest:
        return HostileRequest(f"insights: {name}", "GET", path, key, b"", 400)

    return [
        bad("inactiveDays 0", f"{course}?inactiveDays=0"),
        bad("inactiveDays 366", f"{course}?inactiveDays=366"),
        bad("inactiveDays 1e3", f"{course}?inactiveDays=1e3"),
        bad("inactiveDays of 400 digits", f"{course}?inactiveDays={'9' * 400}"),
        bad("inactiveDays in Arabic-Indic digits", f"{course}?inactiveDays=%D9%A1%D9%A4"),
        bad("top 101", "/v1/insights/content?top=101"),
        bad("top -1", "/v1/insights/content?top=-1"),
        HostileRequest("insights: course not in the catalog", "GET", course, key, b"", 404),
        HostileRequest(
            "insights: read with a user token", "GET", course, {"Authorization": learner}, b"", 403
        ),
        HostileRequest(
            "content insights: read with a user token",
            "GET",
            "/v1/insights/content",
            {"Authorization": learner},
            b"",
            403,
        ),
    ]
