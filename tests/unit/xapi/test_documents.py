"""The State Resource's rules: parameters, ETags and concurrency, the POST merge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.xapi import (
    DocumentConflict,
    InvalidStatement,
    check_preconditions,
    document_etag,
    merged_document,
    parse_state_params,
)

AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:ana@example.com"})
BASE = {"activityId": "https://example.com/courses/rust/au-1", "agent": AGENT}


def test_state_parameters() -> None:
    """Communication 2.3: activityId, agent, registration, stateId, since."""
    address = parse_state_params(
        "PUT",
        {**BASE, "stateId": "bookmark", "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7"},
    )
    assert address.agent == "mbox:mailto:ana@example.com"
    assert address.registration == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
    assert address.document_id == "bookmark"
    listing = parse_state_params("GET", {**BASE, "since": "2026-01-01T00:00:00Z"})
    assert listing.document_id is None
    assert listing.since is not None


@pytest.mark.parametrize(
    ("method", "params", "parameter"),
    [
        ("GET", {"agent": AGENT}, "activityId"),
        ("GET", {"activityId": BASE["activityId"]}, "agent"),
        ("PUT", BASE, "stateId"),
        ("POST", BASE, "stateId"),
        ("GET", {**BASE, "activityId": "not an iri"}, "activityId"),
        ("GET", {**BASE, "agent": "{"}, "agent"),
        ("GET", {**BASE, "agent": json.dumps({"mbox": "ana@example.com"})}, "agent.mbox"),
        ("GET", {**BASE, "registration": "nope"}, "registration"),
        ("GET", {**BASE, "StateId": "a"}, "StateId"),
        ("PUT", {**BASE, "stateId": "a", "since": "2026-01-01T00:00:00Z"}, "since"),
        ("GET", {**BASE, "since": "yesterday"}, "since"),
    ],
)
def test_bad_state_parameters(method: Any, params: dict[str, str], parameter: str) -> None:
    """Communication 2.3, 3.2.s2.b1: missing, unknown or malformed parameters are a 400."""
    with pytest.raises(InvalidStatement) as raised:
        parse_state_params(method, params)
    assert raised.value.path == parameter


def test_etag_is_quoted_and_follows_content() -> None:
    """Communication 3.1: a quoted ETag that changes with the document."""
    tag = document_etag(b'{"a":1}')
    assert tag.startswith('"')
    assert tag.endswith('"')
    assert len(tag) == 42
    assert tag != document_etag(b'{"a":2}')


ETAG = document_etag(b"{}")


def refusal(method: Any, current: str | None, **conditions: Any) -> int | None:
    """The status `check_preconditions` refuses with (its message explains), None if none."""
    try:
        check_preconditions(method, current, **conditions)
    except DocumentConflict as conflict:
        return conflict.status if conflict.message else -1
    return None


@pytest.mark.parametrize(
    ("method", "current", "if_match", "if_none_match", "status"),
    [
        ("PUT", ETAG, ETAG, None, None),
        ("PUT", ETAG, '"other"', None, 412),
        ("POST", ETAG, '"other"', None, 412),
        ("DELETE", ETAG, '"other"', None, 412),
        ("DELETE", ETAG, ETAG, None, None),
        ("PUT", None, ETAG, None, 412),
        ("PUT", ETAG, "*", None, None),
        ("PUT", ETAG, None, "*", 412),
        ("PUT", None, None, "*", None),
        ("PUT", ETAG, None, None, 409),
        ("PUT", None, None, None, None),
        ("POST", ETAG, None, None, None),
        ("GET", ETAG, '"other"', None, None),
    ],
)
def test_preconditions_2_0(
    method: Any,
    current: str | None,
    if_match: str | None,
    if_none_match: str | None,
    status: int | None,
) -> None:
    """Communication 3.1 (2.0.0, the 4.1.4 concurrency tests): 412 on a failed header, 409
    for a PUT over an existing document without one."""
    headers = {"if_match": if_match, "if_none_match": if_none_match}
    assert refusal(method, current, version="2.0.0", resource="state", **headers) == status


def test_state_writes_without_headers_in_1_0_3() -> None:
    """Communication 3.1 (1.0.3): the State Resource permits writes without concurrency headers."""
    check_preconditions(
        "PUT", ETAG, if_match=None, if_none_match=None, version="1.0.3", resource="state"
    )


@pytest.mark.parametrize("resource", ["activity_profile", "agent_profile"])
@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_profile_puts_over_a_document_need_a_header_in_both_versions(
    resource: Any, version: Any
) -> None:
    """Communication 3.1 (1.0.3 and 2.0.0): a blind PUT over an existing profile is a 409."""
    with pytest.raises(DocumentConflict) as raised:
        check_preconditions(
            "PUT", ETAG, if_match=None, if_none_match=None, version=version, resource=resource
        )
    assert raised.value.status == 409


@pytest.mark.parametrize(("version", "status"), [("1.0.3", 400), ("2.0.0", None)])
def test_a_blind_profile_put_of_a_new_document(version: Any, status: int | None) -> None:
    """XAPI-00273, XAPI-00293 (1.0.3 suite): 400 without a header; 2.0.0 creates it."""
    blind = {"if_match": None, "if_none_match": None}
    assert refusal("PUT", None, version=version, resource="agent_profile", **blind) == status


def test_post_merges_one_level_deep() -> None:
    """XAPI-00183, XAPI-00184 Communication 2.2.s7: posted top-level properties replace."""
    existing = json.dumps({"x": "foo", "y": "bar", "nested": {"a": 1, "b": 2}}).encode()
    posted = json.dumps({"x": "bash", "z": "faz", "nested": {"c": 3}}).encode()
    merged = json.loads(merged_document(existing, "application/json", posted, "application/json"))
    assert merged == {"x": "bash", "y": "bar", "z": "faz", "nested": {"c": 3}}


def test_post_creates_when_absent() -> None:
    assert merged_document(None, None, b"raw bytes", "text/plain") == b"raw bytes"
    assert merged_document(None, None, b'{"a":1}', "application/json") == b'{"a":1}'


@pytest.mark.parametrize(
    ("existing", "existing_type", "posted", "posted_type", "where"),
    [
        (b'{"a":1}', "application/json", b"text", "text/plain", "document"),
        (b"text", "text/plain", b'{"a":1}', "application/json", "existing document"),
        (b'{"a":1}', "application/json", b"[1]", "application/json", "document"),
        (None, None, b"{not json", "application/json", "document"),
    ],
)
def test_post_merge_refusals(
    existing: bytes | None, existing_type: str | None, posted: bytes, posted_type: str, where: str
) -> None:
    """Communication 2.2.s8.b1: both documents must be JSON objects to merge."""
    with pytest.raises(InvalidStatement) as raised:
        merged_document(existing, existing_type, posted, posted_type)
    assert raised.value.path == where
