"""The pure parts of `make chaos`: route seeds, hostile bodies, the ledger, the per-user check."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos.devices import Device
from chaos.exposure import failed_answers
from chaos.fuzz import _readiness_answer
from chaos.fuzz_bodies import MIB, bodies
from chaos.fuzz_tokens import ChaosIdentity, fuzzed_tokens
from chaos.groups import group_failures
from chaos.hostile import Probed, attacks
from chaos.known_cases import (
    catalog_requests,
    cost_requests,
    hostile_requests,
    insight_requests,
    known_cases,
    learner_requests,
)
from chaos.ledger import Ledger
from chaos.report import failures
from chaos.routes import Route, _instance
from chaos.traffic import EventMaker
from chaos.verify import Verdict, _check_user
from services.gateway.openapi import OPENAPI_PATH
from shared.domain import (
    ContractViolation,
    RecordedEvent,
    events_from_state,
    parse_state,
    reduce,
    validate_event,
)
from shared.domain.json_text import json_depth
from shared.xapi import MAX_FORM_BYTES
from shared.xapi.json_bounds import MAX_XAPI_DEPTH

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WRITE_EXAMPLE = json.loads(OPENAPI_PATH.read_text())["paths"]["/v1/users/{userId}/progress"]["put"][
    "requestBody"
]["content"]["application/json"]["examples"]["content.progressed"]["value"]


def recorded(raw: dict[str, object], user: str = "u1") -> RecordedEvent:
    return RecordedEvent(
        tenant_id="demo", user_id=user, received_at=NOW, event=validate_event(raw, now=NOW)
    )


def test_schema_instance_follows_references_and_fills_every_property() -> None:
    components = {
        "Course": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 3},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            },
        },
        "Item": {"type": "object", "properties": {"weight": {"type": "integer", "minimum": 2}}},
    }
    instance = _instance({"$ref": "#/components/schemas/Course"}, components, 0)
    assert instance == {"id": "xxx", "items": [{"weight": 2}]}


def test_every_generated_load_event_meets_the_contract() -> None:
    maker = EventMaker(random.Random(7), late_share=0.2, run_id="t")
    kinds = set()
    for _ in range(500):
        raw = maker.new("u1")
        kinds.add(validate_event(raw, now=datetime.now(UTC)).type)
    assert len(kinds) == 10
    assert maker.late > 0


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(bodies([WRITE_EXAMPLE]))
def test_hostile_bodies_are_bytes_within_a_little_over_the_body_limit(body: bytes) -> None:
    assert isinstance(body, bytes)
    assert len(body) <= MIB + 64 * 1024


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(bodies([WRITE_EXAMPLE]))
def test_mutated_seeds_never_reuse_the_seed_event_ids(body: bytes) -> None:
    assert b'"evt-001"' not in body


def test_ledger_keeps_accepted_events_and_resends_unknown_ones() -> None:
    ledger = Ledger()
    batch = [("u1", {"eventId": "a"}), ("u1", {"eventId": "b"})]
    ledger.unknown(batch)
    assert len(ledger.take_outbox(["u1"], 10)) == 2
    answer = {
        "results": [
            {"eventId": "a", "status": "accepted"},
            {"eventId": "b", "status": "rejected", "error": "bad"},
        ]
    }
    ledger.record(batch, answer, "load")
    assert ledger.accepted == {("u1", "a"): "load"}
    assert ledger.outbox == {}
    assert ledger.rejected["bad"] == 1
    ledger.unknown(batch[:1])
    assert ledger.outbox == {}, "an accepted event never goes back to the outbox"


def test_a_snapshot_equal_to_the_reduction_passes_and_a_stale_one_is_reported() -> None:
    maker = EventMaker(random.Random(3), late_share=0.3, run_id="t")
    events = [recorded(maker.new("u1")) for _ in range(40)]
    log = [(seq, event.to_json().decode()) for seq, event in enumerate(events, 1)]
    good = reduce(events, tenant_id="demo", user_id="u1").to_storage()
    stale = reduce(events[:-5], tenant_id="demo", user_id="u1").to_storage()
    assert _check_user("u1", list(log), good, Verdict()) is None
    assert "differs from reduce(log)" in str(_check_user("u1", list(log), stale, Verdict()))
    assert "unreadable" in str(_check_user("u1", list(log), "[" * 5000, Verdict()))
    assert "no snapshot" in str(_check_user("u1", list(log), None, Verdict()))


@given(st.integers(1, 3))
def test_a_log_position_used_twice_is_counted(extra: int) -> None:
    event = recorded(EventMaker(random.Random(1), 0.0, "t").new("u1"))
    log = [(1, event.to_json().decode())] * (extra + 1)
    verdict = Verdict()
    _check_user("u1", log, reduce([event], tenant_id="demo", user_id="u1").to_storage(), verdict)
    assert verdict.seq_collisions == extra


def test_named_cases_each_have_their_own_user_and_event() -> None:
    cases = known_cases("t")
    assert len({user for _, user, _ in cases}) == len(cases)
    deep = [body for name, _, body in cases if name == "state nested 100 deep"]
    event = json.loads(deep[0])["events"][0]
    with pytest.raises(ContractViolation) as refused:  # values are bounded to 8 levels now
        validate_event(event, now=NOW)
    assert refused.value.field == "payload.interaction.state"


def test_exposure_counts_5xx_and_dropped_connections_as_failed_answers() -> None:
    answers = {"form": {"400": 3, "503": 1}, "huge": {"401": 2, "ReadError": 2}, "ok": {"413": 9}}
    assert failed_answers(answers) == 3
    assert failed_answers({"huge": {"closed": 6, "401": 6}}) == 0


def test_an_open_loop_probe_counts_stalls_over_a_bound() -> None:
    probed = Probed([0.01, 0.02, 1.5, 0.03, 2.0], Counter({"200": 5}))
    assert probed.over(1.0) == 2
    assert probed.quantile_ms(1.0) == 2000.0
    assert probed.quantile_ms(0.5) == 30.0


def test_the_cost_cases_derive_more_than_one_request_may() -> None:
    """Issue 23: a 2.3 KB import deriving 2,525 events; 2,500 statements in one POST."""
    cases = {case.name: case for case in cost_requests("Bearer key")}
    imported = json.loads(cases["import deriving 2,525 events (25 quiz items, 2.3 KB)"].body)
    assert len(events_from_state(parse_state(imported["state"]), user_id="u", as_of=NOW)) == 2525
    assert len(json.loads(cases["xAPI POST of 2,500 statements"].body)) == 2500
    assert {case.expected for case in cases.values()} == {413}


def test_a_forged_token_not_refused_fails_the_run() -> None:
    report = {
        "check": {"lost": 0, "doubled": 0, "snapshots_mismatched": 0, "seq_collisions": 0},
        "fuzz": {"5xx_total": 0, "forgeries_not_refused": ["token with alg none: 200 {}"]},
        "load": {"answers": {}},
        "faults": {"unexpected_exits": []},
        "exposure": {"failed": 0, "healthz_stalls": 0},
    }
    report["fuzz"]["known_mismatches"] = {}
    assert failures(report, allow_5xx=False) == [
        "a forged token was not refused with 401: token with alg none: 200 {}"
    ]


@given(fuzzed_tokens(ChaosIdentity()))
def test_fuzzed_tokens_are_jwt_shaped(token: str) -> None:
    assert token.count(".") == 2


def test_learner_cases_name_another_learner_and_expect_403() -> None:
    """Issue 23 item 3: each case is refused for naming `fuzz-other` with `fuzz-user`'s token."""
    cases = learner_requests("fuzz-user", "fuzz-other", "Bearer token")
    assert len({case.name for case in cases}) == len(cases)
    assert {case.expected for case in cases} == {403}
    assert all(case.path.startswith("/xapi/") for case in cases)
    assert all(case.headers["Authorization"] == "Bearer token" for case in cases)


def test_issue_23_hostile_requests_are_what_their_names_say() -> None:
    """The named cases stay hostile: sizes past the form bound, depths past 32."""
    requests = {hostile.name: hostile for hostile in hostile_requests("Bearer key")}
    assert len(requests) == len(hostile_requests("Bearer key"))
    big_form = requests["xapi form of 20,000 empty fields (149 KB), no credentials"]
    small_form = requests["xapi form of 20,000 empty fields (40 KB), no credentials"]
    assert len(big_form.body) > MAX_FORM_BYTES >= len(small_form.body)
    assert big_form.body.count(b"&") == small_form.body.count(b"&") == 19_999
    unsigned = [hostile for hostile in requests.values() if "no credentials" in hostile.name]
    assert all("Authorization" not in hostile.headers for hostile in unsigned)
    deep = requests["xapi extension nested 480 deep"]
    assert json_depth(deep.body) > MAX_XAPI_DEPTH
    assert {hostile.expected for hostile in requests.values()} == {400, 401, 413}


def test_a_named_case_answered_otherwise_fails_the_run() -> None:
    report = {
        "check": {"lost": 0, "doubled": 0, "snapshots_mismatched": 0, "seq_collisions": 0},
        "fuzz": {"5xx_total": 0, "known_mismatches": {"xapi extension nested 480 deep": "500"}},
        "load": {"answers": {}},
        "faults": {"unexpected_exits": []},
        "exposure": {"failed": 0, "healthz_stalls": 0},
    }
    report["fuzz"]["forgeries_not_refused"] = []
    assert failures(report, allow_5xx=True) == [
        "named case 'xapi extension nested 480 deep' answered 500"
    ]


def test_every_exposure_attack_finds_the_named_request_it_repeats() -> None:
    """A case renamed in chaos.known_cases raises here, not in the middle of a campaign."""
    chosen = attacks()
    assert len(chosen) == 9
    assert all(attack.total >= attack.parallel >= 1 for attack in chosen.values())


def test_a_device_that_got_an_event_twice_or_missed_one_fails_the_group_torture() -> None:
    device = Device("http://gateway", "u")
    device.received.update(["e-1", "e-2", "e-2"])
    judged = device.judge({"e-1", "e-2", "e-3"})
    assert (judged["missed"], judged["twice"], judged["unknown"]) == (["e-3"], ["e-2"], [])
    clean = {"lost": 0, "doubled": 0, "snapshots_mismatched": 0, "seq_collisions": 0}
    report = {
        "check": clean,
        "settle": {"settled": True},
        "devices": {"missed": 1, "twice": 1, "unknown": 0},
    }
    assert group_failures(report) == ["devices missed 1 events", "devices twice 1 events"]


def test_only_readiness_naming_an_unavailable_dependency_is_an_answer_not_a_5xx() -> None:
    ready = Route("GET", "/readyz", (), (), False, (), "http://127.0.0.1:8080")
    other = Route("GET", "/healthz", (), (), False, (), "http://127.0.0.1:8080")
    down = httpx.Response(503, json={"status": "unavailable", "checks": {"mongodb": "unavailable"}})
    assert _readiness_answer(ready, down)
    assert not _readiness_answer(other, down)
    assert not _readiness_answer(ready, httpx.Response(503, text="upstream died"))
    assert not _readiness_answer(ready, httpx.Response(500, json={"checks": {"kafka": "ok"}}))


def test_insight_cases_read_the_insight_routes_with_their_answers() -> None:
    """Issue 28: bad parameters 400, a course not in the catalog 404, user tokens 403."""
    cases = insight_requests("Bearer key", "Bearer learner")
    assert len({case.name for case in cases}) == len(cases)
    assert all(case.method == "GET" and "/insights" in case.path for case in cases)
    assert {case.expected for case in cases} == {400, 403, 404}
    learners = [case for case in cases if case.headers["Authorization"] == "Bearer learner"]
    assert {case.expected for case in learners} == {403}


def test_catalog_deletes_name_an_absent_course_and_an_invalid_id() -> None:
    """The named catalog DELETEs must get 404 and 422: neither may queue a catalog job."""
    cases = {case.name: case for case in catalog_requests("Bearer key")}
    absent = cases["catalog DELETE of a course the catalog lacks"]
    assert (absent.method, absent.expected) == ("DELETE", 404)
    assert absent.path.startswith("/v1/catalog/courses/fuzz-absent-")
    assert cases["catalog DELETE of a courseId with a space"].expected == 422
    assert all(case.headers == {"Authorization": "Bearer key"} for case in cases.values())
