"""Statements, documents and JWS parts nest at most 32 levels; deeper is a 400, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from shared.xapi import InvalidStatement, check_signature, merged_document, read_statement_body
from shared.xapi.json_bounds import MAX_XAPI_DEPTH

from .statements import statement
from .test_signature import jws, signed


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def deep_text(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def with_extension(value: Any) -> dict[str, Any]:
    sent = statement()
    sent["result"] = {"extensions": {"http://example.com/deep": value}}
    return sent


def test_a_statement_at_the_bound_is_read() -> None:
    body = json.dumps(with_extension(nested(MAX_XAPI_DEPTH - 3))).encode()
    assert read_statement_body("application/json", body).statements is not None


def test_an_extension_480_deep_is_refused_naming_the_bound() -> None:
    """Issue 23, item 10: this extension answered 500."""
    body = json.dumps(with_extension(nested(480))).encode()
    with pytest.raises(InvalidStatement) as refused:
        read_statement_body("application/json", body)
    assert f"deeper than {MAX_XAPI_DEPTH} levels" in refused.value.rule


@pytest.mark.parametrize("part", ["header", "payload"])
def test_a_jws_part_nested_thousands_deep_is_refused_naming_the_bound(part: str) -> None:
    """Issue 23, item 10: a JWS header or payload 5,000 deep answered 500."""
    original, received = signed()
    header, payload, signature = jws(original).split(b".")
    if part == "header":
        header = b64(deep_text(5000))
    else:
        payload = b64(deep_text(5000))
    with pytest.raises(InvalidStatement) as refused:
        check_signature(received, b".".join([header, payload, signature]))
    assert refused.value.path == "attachments[1]"
    assert f"the JWS {part} nests deeper than {MAX_XAPI_DEPTH} levels" in refused.value.rule


def test_a_document_nested_too_deep_is_refused_when_merged() -> None:
    with pytest.raises(InvalidStatement) as refused:
        merged_document(None, None, deep_text(5000), "application/json")
    assert refused.value.path == "document"
    assert f"deeper than {MAX_XAPI_DEPTH} levels" in refused.value.rule
