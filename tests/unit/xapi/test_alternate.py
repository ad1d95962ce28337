"""1.0.3's alternate request syntax (Communication 1.3, XAPI-00336)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from shared.xapi import (
    MAX_FORM_FIELDS,
    InvalidStatement,
    UnwrappedRequest,
    unwrap_alternate_request,
)

from .statements import STATEMENT_ID, statement

FORM = "application/x-www-form-urlencoded"


def test_plain_requests_are_left_alone() -> None:
    assert unwrap_alternate_request("POST", {}, "application/json", b"{}") is None


def test_put_issued_as_post() -> None:
    """XAPI-00336: PUT as POST; header fields become headers, others query parameters."""
    content = json.dumps(statement())
    body = urlencode(
        {
            "statementId": STATEMENT_ID,
            "content": content,
            "X-Experience-API-Version": "1.0.3",
            "authorization": "Basic a2V5OnNlY3JldA==",
        }
    ).encode()
    unwrapped = unwrap_alternate_request("POST", {"method": "PUT"}, FORM, body)
    assert unwrapped == UnwrappedRequest(
        "PUT",
        {"statementId": STATEMENT_ID},
        {
            "X-Experience-API-Version": "1.0.3",
            "Authorization": "Basic a2V5OnNlY3JldA==",
            "Content-Type": "application/json",
        },
        content.encode(),
    )


def test_get_issued_as_post() -> None:
    """XAPI-00148 Communication 2.1.2.s2.b3: a GET of statements as a POST form."""
    unwrapped = unwrap_alternate_request("POST", {"method": "GET"}, FORM, b"limit=1")
    assert unwrapped == UnwrappedRequest("GET", {"limit": "1"})


@pytest.mark.parametrize(
    ("http_method", "query", "content_type", "body", "where"),
    [
        ("PUT", {"method": "POST"}, FORM, b"content=x", "method"),
        ("POST", {"method": "PUT", "statementId": STATEMENT_ID}, FORM, b"content=x", "statementId"),
        ("POST", {"method": "PATCH"}, FORM, b"content=x", "method"),
        ("POST", {"method": "PUT"}, None, b"", "Content-Type"),
        ("POST", {"method": "PUT"}, FORM, b"", "content"),
        ("POST", {"method": "PUT"}, FORM, json.dumps({"content": "x"}).encode(), ""),
        ("POST", {"method": "PUT"}, FORM, b"content=a&content=b", "content"),
    ],
    ids=["not POST", "query parameter", "unknown method", "not a form", "no content",
         "JSON instead of a form", "repeated field"],
)  # fmt: skip
def test_malformed_alternate_requests(
    http_method: str, query: dict[str, str], content_type: str | None, body: bytes, where: str
) -> None:
    """Communication 1.3.s3.b4: anything else about the wrapping is a 400."""
    with pytest.raises(InvalidStatement) as raised:
        unwrap_alternate_request(http_method, query, content_type, body)
    assert raised.value.path == where


def test_a_form_of_more_than_50_fields_is_refused_naming_the_limit() -> None:
    """Issue 23: the form is read before its credentials, so its field count is bounded."""
    fields = {f"f{index}": "" for index in range(MAX_FORM_FIELDS + 1)}
    with pytest.raises(InvalidStatement) as refused:
        unwrap_alternate_request("POST", {"method": "GET"}, FORM, urlencode(fields).encode())
    assert f"more than {MAX_FORM_FIELDS} fields" in refused.value.rule


def test_a_form_of_50_fields_is_unwrapped() -> None:
    fields = {f"f{index}": "" for index in range(MAX_FORM_FIELDS)}
    unwrapped = unwrap_alternate_request(
        "POST", {"method": "GET"}, FORM, urlencode(fields).encode()
    )
    assert unwrapped is not None
    assert len(unwrapped.params) == MAX_FORM_FIELDS


def test_20000_empty_fields_are_refused_before_they_are_compared() -> None:
    """Issue 23, item 1: the repeated-field check was quadratic (7.3 s for this body)."""
    with pytest.raises(InvalidStatement) as refused:
        unwrap_alternate_request("POST", {"method": "PUT"}, FORM, b"&".join([b"="] * 20_000))
    assert f"more than {MAX_FORM_FIELDS} fields" in refused.value.rule
