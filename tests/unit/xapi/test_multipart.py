"""Attachments over multipart/mixed (Communication 1.5.2, Data 2.4.11)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.xapi import (
    InvalidStatement,
    StatementBody,
    check_attachment_data,
    read_statement_body,
    validate_statements,
    write_multipart,
)

from .statements import statement

DATA = b"here is a simple attachment\r\n--not-a-boundary\n"
SHA = hashlib.sha256(DATA).hexdigest()
BOUNDARY = "-------314159265358979323846"
CONTENT_TYPE = f"multipart/mixed; boundary={BOUNDARY}"


def with_attachment(**overrides: Any) -> dict[str, Any]:
    attachment = {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain",
        "length": len(DATA),
        "sha2": SHA,
        **overrides,
    }
    return statement(attachments=[attachment])


def part(data: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"{name}: {value}".encode() for name, value in headers.items()]
    return b"--" + BOUNDARY.encode() + b"\r\n" + b"\r\n".join(lines) + b"\r\n\r\n" + data + b"\r\n"


def body(statements: Any, *parts: bytes) -> bytes:
    first = part(json.dumps(statements).encode(), {"Content-Type": "application/json"})
    return first + b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


ATTACHMENT_HEADERS = {
    "Content-Type": "text/plain",
    "Content-Transfer-Encoding": "binary",
    "X-Experience-API-Hash": SHA,
}


def test_statement_with_raw_attachment_is_read_and_matched() -> None:
    """XAPI-00127 Communication 1.5.2: multipart/mixed with the data matched by SHA-2."""
    sent = with_attachment()
    read = read_statement_body(CONTENT_TYPE, body(sent, part(DATA, ATTACHMENT_HEADERS)))
    assert read.attachments == {SHA: DATA}
    check_attachment_data(validate_statements(read.statements), read)


def test_json_body_needs_file_urls() -> None:
    """XAPI-00129 Communication 1.5.1: application/json attachments need a fileUrl."""
    raw = json.dumps(with_attachment()).encode()
    read = read_statement_body("application/json; charset=utf-8", raw)
    with pytest.raises(InvalidStatement) as raised:
        check_attachment_data(validate_statements(read.statements), read)
    assert raised.value.path == "[0].attachments[0].sha2"
    with_url = json.dumps(with_attachment(fileUrl="https://files.example.com/a.txt")).encode()
    read = read_statement_body("application/json", with_url)
    check_attachment_data(validate_statements(read.statements), read)


def test_excess_part_is_refused() -> None:
    """XAPI-00128 Communication 1.5.1.s1.b2: parts that are no statement's attachment."""
    other = b"another file"
    headers = {**ATTACHMENT_HEADERS, "X-Experience-API-Hash": hashlib.sha256(other).hexdigest()}
    read = read_statement_body(
        CONTENT_TYPE, body(with_attachment(), part(DATA, ATTACHMENT_HEADERS), part(other, headers))
    )
    with pytest.raises(InvalidStatement, match="belongs to no attachment"):
        check_attachment_data(validate_statements(read.statements), read)


@pytest.mark.parametrize(
    ("content_type", "raw", "path"),
    [
        ("multipart/form-data; boundary=x", b"", "Content-Type"),
        ("multipart/mixed", b"", "Content-Type"),
        (CONTENT_TYPE, b"no boundary in here", ""),
        (
            CONTENT_TYPE,
            part(b"{}", {"Content-Type": "text/plain"}) + b"--" + BOUNDARY.encode() + b"--",
            "",
        ),
        (CONTENT_TYPE, body({}, part(DATA, {"Content-Transfer-Encoding": "binary"})), ""),
        (CONTENT_TYPE, body({}, part(DATA, {"X-Experience-API-Hash": SHA})), ""),
        (
            CONTENT_TYPE,
            body({}, part(DATA, {**ATTACHMENT_HEADERS, "X-Experience-API-Hash": "c" * 64})),
            "",
        ),
        (CONTENT_TYPE, body({}, part(DATA, ATTACHMENT_HEADERS))[:-10], ""),
    ],
    ids=[
        "form-data",
        "no boundary",
        "body without boundary",
        "first part not JSON",
        "no hash header",
        "no binary encoding",
        "hash does not match data",
        "not closed",
    ],
)
def test_malformed_multipart_is_refused(content_type: str, raw: bytes, path: str) -> None:
    """XAPI-00130..00135 Communication 1.5.2.s2.b2: boundary, first part, part headers."""
    with pytest.raises(InvalidStatement) as raised:
        read_statement_body(content_type, raw)
    assert raised.value.path == path


@given(st.lists(st.binary(max_size=200), min_size=1, max_size=4))
def test_written_multipart_reads_back(blobs: list[bytes]) -> None:
    """A GET with attachments=true writes what a PUT or POST would read (any bytes)."""
    entries = [
        (hashlib.sha256(blob).hexdigest(), "application/octet-stream", blob) for blob in blobs
    ]
    content_type, raw = write_multipart(b'{"statements": [], "more": ""}', entries)
    read = read_statement_body(content_type, raw)
    assert read == StatementBody(
        {"statements": [], "more": ""}, {sha: blob for sha, _, blob in entries}
    )
