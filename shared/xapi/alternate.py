"""xAPI 1.0.3's alternate request syntax (Communication 1.3): a request wrapped in a form POST.

Browsers that could not set headers or use PUT sent `POST …?method=PUT` with a
`application/x-www-form-urlencoded` body carrying the headers, the query parameters and the
`content`. `unwrap_alternate_request` turns such a request back into the one it stands for.
2.0.0 dropped the syntax; the service applies it to 1.0.x requests only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl

from .errors import InvalidStatement

__all__ = [
    "FORM_HEADERS",
    "MAX_FORM_BYTES",
    "MAX_FORM_FIELDS",
    "UnwrappedRequest",
    "unwrap_alternate_request",
]

FORM_HEADERS = (
    "Authorization",
    "X-Experience-API-Version",
    "Content-Type",
    "Content-Length",
    "If-Match",
    "If-None-Match",
)
"""Form parameters that stand for headers (Communication 1.3, Headers)."""

MAX_FORM_BYTES = 64 * 1024
"""Largest alternate-syntax form: it is read before its credentials are known."""
MAX_FORM_FIELDS = 50
"""Most fields in an alternate-syntax form (six headers, `content`, the query parameters)."""

_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
_SECTION = "Communication 1.3"


@dataclass(frozen=True)
class UnwrappedRequest:
    """The request an alternate-syntax POST stands for.

    Attributes:
        method: The intended method.
        params: The query parameters (every form field that is not a header or `content`).
        headers: Headers given as form fields, by their canonical names; they override the
            HTTP headers (Authorization included).
        body: The `content` field as UTF-8 bytes (empty when there is none).
    """

    method: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def unwrap_alternate_request(
    http_method: str, query: Mapping[str, str], content_type: str | None, body: bytes
) -> UnwrappedRequest | None:
    """The request behind an alternate-syntax request; None when `method` is not in the query.

    Raises:
        InvalidStatement: Naming what breaks Communication 1.3: not issued as POST, another
            query parameter, an unknown method, a body that is not a URL-encoded form, more
            than `MAX_FORM_FIELDS` fields, a repeated field, or a PUT or POST without
            `content`. Every check is linear in the body's length.
    """
    if "method" not in query:
        return None
    if http_method.upper() != "POST":
        raise InvalidStatement("method", f"the alternate request syntax is a POST ({_SECTION})")
    for name in query:
        if name != "method":
            raise InvalidStatement(name, f"must be a form parameter, not in the query ({_SECTION})")
    method = query["method"].upper()
    if method not in _METHODS:
        raise InvalidStatement("method", f"must be GET, HEAD, PUT, POST or DELETE ({_SECTION})")
    header = Message()
    header["Content-Type"] = content_type or ""
    if header.get_content_type() != "application/x-www-form-urlencoded":
        raise InvalidStatement(
            "Content-Type", f"must be application/x-www-form-urlencoded ({_SECTION})"
        )
    if body.count(b"&") >= MAX_FORM_FIELDS:
        raise InvalidStatement("", f"the form has more than {MAX_FORM_FIELDS} fields ({_SECTION})")
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise InvalidStatement("", f"the body is not a URL-encoded form ({_SECTION})") from None
    seen: set[str] = set()
    for name, _ in fields:
        if name in seen:
            raise InvalidStatement(name, f"is given more than once ({_SECTION})")
        seen.add(name)
    canonical = {name.lower(): name for name in FORM_HEADERS}
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    content: str | None = None
    for name, value in fields:
        if name == "content":
            content = value
        elif name.lower() in canonical:
            headers[canonical[name.lower()]] = value
        else:
            params[name] = value
    if method in ("PUT", "POST") and content is None:
        raise InvalidStatement("content", f"is required to {method} ({_SECTION})")
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    return UnwrappedRequest(method, params, headers, (content or "").encode())
