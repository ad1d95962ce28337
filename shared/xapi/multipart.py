"""Statement request bodies with attachments: `multipart/mixed` in and out (Communication 1.5).

A PUT or POST of statements is `application/json`, or `multipart/mixed` whose first part is
the statements and whose further parts are attachment data, each with `Content-Transfer-
Encoding: binary` and its SHA-2 in `X-Experience-API-Hash`. `read_statement_body` splits
and checks the request; `check_attachment_data` then matches the statements' attachments to
the parts; `write_multipart` builds the response of a GET with `attachments=true`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any

from .errors import InvalidStatement
from .formats import is_sha2
from .json_bounds import check_depth

__all__ = ["StatementBody", "check_attachment_data", "read_statement_body", "write_multipart"]

_SECTION = "Communication 1.5.2"
_DIGESTS = {56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}


@dataclass(frozen=True)
class StatementBody:
    """A statement request's JSON (not yet validated) and its attachment data by SHA-2."""

    statements: object
    attachments: dict[str, bytes] = field(default_factory=dict)


def read_statement_body(content_type: str | None, body: bytes) -> StatementBody:
    """Split a statement PUT/POST body by its Content-Type (application/json or multipart).

    Raises:
        InvalidStatement: With path `Content-Type` for another type or a missing boundary, or
            an empty path for a malformed multipart body, a first part that is not JSON, or
            an attachment part without `X-Experience-API-Hash`, without binary transfer
            encoding, or whose data does not have the SHA-2 it declares.
    """
    header = Message()
    header["Content-Type"] = content_type or ""
    kind = header.get_content_type()
    if kind == "application/json":
        return StatementBody(_json(body))
    if kind != "multipart/mixed":
        raise InvalidStatement(
            "Content-Type", f"must be application/json or multipart/mixed ({_SECTION})"
        )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise InvalidStatement("Content-Type", f"multipart/mixed needs a boundary ({_SECTION})")
    parts = _split(body, boundary.encode())
    first_headers, first_data = parts[0]
    if first_headers.get_content_type() != "application/json":
        raise InvalidStatement("", f"the first part must be application/json ({_SECTION}.s2.b2)")
    attachments: dict[str, bytes] = {}
    for headers, data in parts[1:]:
        declared = (headers.get("X-Experience-API-Hash") or "").strip().lower()
        if not declared:
            raise InvalidStatement(
                "", f"an attachment part lacks X-Experience-API-Hash ({_SECTION})"
            )
        if (headers.get("Content-Transfer-Encoding") or "").strip().lower() != "binary":
            raise InvalidStatement(
                "", f"an attachment part needs Content-Transfer-Encoding: binary ({_SECTION})"
            )
        if not is_sha2(declared) or _sha2(data, len(declared)) != declared:
            raise InvalidStatement(
                "", f"attachment data does not have the SHA-2 {declared!r} it declares ({_SECTION})"
            )
        attachments[declared] = data
    return StatementBody(_json(first_data), attachments)


def _json(data: bytes) -> object:
    check_depth(data, "", "the statement body")
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise InvalidStatement(
            "", "the statements are not valid JSON (Communication 1.5)"
        ) from None


def _sha2(data: bytes, hex_length: int) -> str:
    return hashlib.new(_DIGESTS[hex_length], data).hexdigest()


def _split(body: bytes, boundary: bytes) -> list[tuple[Message, bytes]]:
    """The parts of an RFC 2046 multipart body (CRLF line breaks; bare LF tolerated)."""
    newline = b"\r\n" if b"\r\n--" + boundary in b"\r\n" + body else b"\n"
    chunks = (newline + body).split(newline + b"--" + boundary)
    parts: list[tuple[Message, bytes]] = []
    closed = False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            closed = True
            break
        _, found, content = chunk.partition(newline)
        if not found:
            break
        if content.startswith(newline):
            raw_headers, data = b"", content[len(newline) :]
        else:
            raw_headers, found, data = content.partition(newline + newline)
            if not found:
                raise InvalidStatement("", f"a multipart part has no header end ({_SECTION})")
        parts.append((BytesHeaderParser().parsebytes(raw_headers + newline + newline), data))
    if not parts or not closed:
        raise InvalidStatement(
            "", f"the body is not multipart/mixed with the declared boundary ({_SECTION})"
        )
    return parts


def _attachment_objects(
    statements: Iterable[dict[str, Any]],
) -> Iterable[tuple[str, dict[str, Any]]]:
    for position, statement in enumerate(statements):
        for index, attachment in enumerate(statement.get("attachments", [])):
            yield f"[{position}].attachments[{index}]", attachment
        target = statement["object"]
        if target.get("objectType") == "SubStatement":
            for index, attachment in enumerate(target.get("attachments", [])):
                yield f"[{position}].object.attachments[{index}]", attachment


def check_attachment_data(statements: Sequence[dict[str, Any]], body: StatementBody) -> None:
    """Match validated statements' attachments with the received data (Communication 1.5.2.s3).

    Every attachment without a `fileUrl` needs a part with its `sha2` (s3.b5), and every
    part must belong to some attachment (no excess parts). Paths start with the statement's
    index in the request (`[0]` for a single statement).
    """
    used: set[str] = set()
    for path, attachment in _attachment_objects(statements):
        sha2 = attachment["sha2"].lower()
        if sha2 in body.attachments:
            used.add(sha2)
        elif "fileUrl" not in attachment:
            raise InvalidStatement(
                f"{path}.sha2",
                f"no attachment part has this SHA-2 and there is no fileUrl ({_SECTION}.s3.b5)",
            )
    excess = sorted(set(body.attachments) - used)
    if excess:
        raise InvalidStatement("", f"part {excess[0]!r} belongs to no attachment ({_SECTION})")


def write_multipart(
    statements_json: bytes, attachments: Iterable[tuple[str, str, bytes]]
) -> tuple[str, bytes]:
    """A `multipart/mixed` response: the statements, then each (sha2, contentType, data) once.

    Returns:
        The Content-Type header value (with its boundary) and the body.
    """
    boundary = f"xapi-{secrets.token_hex(16)}".encode()
    out = [b"--" + boundary, b"Content-Type: application/json", b"", statements_json]
    seen: set[str] = set()
    for sha2, content_type, data in attachments:
        if sha2.lower() in seen:
            continue
        seen.add(sha2.lower())
        out += [
            b"--" + boundary,
            f"Content-Type: {content_type}".encode(),
            b"Content-Transfer-Encoding: binary",
            f"X-Experience-API-Hash: {sha2}".encode(),
            b"",
            data,
        ]
    out.append(b"--" + boundary + b"--")
    return f'multipart/mixed; boundary="{boundary.decode()}"', b"\r\n".join(out) + b"\r\n"
