"""The State Resource's rules without storage (Communication 2.2, 2.3, 3.1).

`parse_state_params` checks a request's parameters, `check_preconditions` applies If-Match /
If-None-Match to the stored document's ETag, `merged_document` is the POST merge and
`document_etag` the ETag of stored bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any, Literal

from .checks import check_iri, check_timestamp, check_uuid, fail
from .errors import InvalidStatement
from .formats import XapiVersion
from .query import parse_agent_param

__all__ = [
    "DocumentConflict",
    "StateAddress",
    "check_preconditions",
    "document_etag",
    "merged_document",
    "parse_state_params",
]

Method = Literal["GET", "HEAD", "PUT", "POST", "DELETE"]
_SECTION = "Communication 2.3"
_PARAMS = frozenset({"activityId", "agent", "registration", "stateId", "since"})


@dataclass(frozen=True)
class StateAddress:
    """Which state document(s) a request means; `state_id` None means all of the context."""

    activity_id: str
    agent: str
    """The agent's `ifi_key`."""
    registration: str | None = None
    state_id: str | None = None
    since: datetime | None = None


class DocumentConflict(Exception):
    """A write the stored document's ETag forbids: `status` 412, or 409 without a header.

    Attributes:
        status: The HTTP status to answer.
        message: Why, for the response body (the 409 must explain, Communication 3.1).
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(status, message)


def parse_state_params(method: Method, params: Mapping[str, str]) -> StateAddress:
    """Check the parameters of a State Resource request (names are case-sensitive).

    activityId (IRI) and agent (Agent JSON) are always required; stateId is required by PUT
    and POST; `since` is allowed only on a GET of all ids; registration must be a UUID.

    Raises:
        InvalidStatement: Naming the parameter.
    """
    for name in params:
        if name not in _PARAMS:
            fail(name, f"is not a parameter of the State Resource ({_SECTION})")
    for name in ("activityId", "agent"):
        if name not in params:
            fail(name, f"is required ({_SECTION})")
    if method in ("PUT", "POST") and "stateId" not in params:
        fail("stateId", f"is required to store a state document ({_SECTION})")
    if "since" in params and (method not in ("GET", "HEAD") or "stateId" in params):
        fail("since", f"is only for a GET of all state ids ({_SECTION})")
    registration = params.get("registration")
    since = params.get("since")
    return StateAddress(
        activity_id=check_iri(params["activityId"], "activityId", _SECTION),
        agent=parse_agent_param(params["agent"]),
        registration=None
        if registration is None
        else check_uuid(registration, "registration", _SECTION).lower(),
        state_id=params.get("stateId"),
        since=None if since is None else check_timestamp(since, "since", _SECTION),
    )


def document_etag(content: bytes) -> str:
    """The quoted ETag of a stored document: its SHA-1 in hex (Communication 3.1)."""
    return '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'


def check_preconditions(
    method: Method,
    current: str | None,
    *,
    if_match: str | None,
    if_none_match: str | None,
    version: XapiVersion,
) -> None:
    """Apply If-Match / If-None-Match (RFC 7232) to a write of a state document.

    Args:
        method: The request's method; GET and HEAD are never refused.
        current: The stored document's ETag, None when there is none.
        if_match: The If-Match header, if sent.
        if_none_match: The If-None-Match header, if sent.
        version: 2.0.0 also refuses (409) a PUT over an existing document without either
            header; 1.0.3 lets the State Resource write without them (Communication 3.1).

    Raises:
        DocumentConflict: 412 when a header does not hold, 409 as said above.
    """
    if method in ("GET", "HEAD"):
        return
    if if_match is not None and (current is None or not _listed(current, if_match)):
        raise DocumentConflict(412, "If-Match does not match the stored document's ETag")
    if if_none_match is not None and current is not None and _listed(current, if_none_match):
        raise DocumentConflict(412, "If-None-Match matches the stored document's ETag")
    unconditional = if_match is None and if_none_match is None
    if version != "1.0.3" and method == "PUT" and current is not None and unconditional:
        raise DocumentConflict(
            409,
            "the document exists: send If-Match with its ETag to replace it, "
            "or If-None-Match: * to create it only if absent",
        )


def _listed(current: str, header: str) -> bool:
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or current in tags or current.strip('"') in tags


def _is_json(content_type: str | None) -> bool:
    header = Message()
    header["Content-Type"] = content_type or ""
    return header.get_content_type() == "application/json"


def _object(content: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise InvalidStatement(name, "must be a JSON object to be merged (Communication 2.2.s8.b1)")
    return value


def merged_document(
    existing: bytes | None,
    existing_type: str | None,
    posted: bytes,
    posted_type: str | None,
) -> bytes:
    """The document a POST stores: the posted one, or both merged one level deep.

    A posted `application/json` body must be a JSON object. Over an existing document both
    must be JSON objects (Communication 2.2.s8.b1); the posted top-level properties replace
    the existing ones (2.2.s7).

    Raises:
        InvalidStatement: Naming `document` (the posted body) or `existing document`.
    """
    posted_object = _object(posted, "document") if _is_json(posted_type) else None
    if existing is None:
        return posted
    if posted_object is None:
        raise InvalidStatement("document", "must be application/json to be merged (2.2.s8.b1)")
    if not _is_json(existing_type):
        raise InvalidStatement("existing document", "is not JSON, so cannot be merged (2.2.s8.b1)")
    merged = {**_object(existing, "existing document"), **posted_object}
    return json.dumps(merged, separators=(",", ":"), ensure_ascii=False).encode()
