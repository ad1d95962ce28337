"""The document resources' rules without storage (Communication 2.2, 3.1).

One set of rules for the State, Activity Profile and Agent Profile resources:
`check_preconditions` applies If-Match / If-None-Match to the stored document's ETag,
`merged_document` is the POST merge and `document_etag` the ETag of stored bytes. Their
parameters are `document_params`'.
"""

from __future__ import annotations

import hashlib
import json
from email.message import Message
from typing import Any

from .document_params import DocumentResource, Method
from .errors import InvalidStatement
from .formats import XapiVersion
from .json_bounds import check_depth

__all__ = ["DocumentConflict", "check_preconditions", "document_etag", "merged_document"]


class DocumentConflict(Exception):
    """A write the preconditions forbid: `status` 412, 409 or 400 without a header.

    Attributes:
        status: The HTTP status to answer.
        message: Why, for the response body (the 409 must explain, Communication 3.1).
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(status, message)


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
    resource: DocumentResource,
) -> None:
    """Apply If-Match / If-None-Match (RFC 7232) to a write of a document.

    Args:
        method: The request's method; GET and HEAD are never refused.
        current: The stored document's ETag, None when there is none.
        if_match: The If-Match header, if sent.
        if_none_match: The If-None-Match header, if sent.
        version: With `resource`, whether a PUT without either header is refused: over an
            existing document (409) always in 2.0.0, and in 1.0.3 for the profile resources
            only, as the State Resource may write without them (Communication 3.1); a
            1.0.3 profile PUT without either is refused even where nothing exists yet (400,
            as ADL's 1.0.3 conformance suite checks for XAPI-00273 and XAPI-00293).
        resource: Which document resource is written.

    Raises:
        DocumentConflict: 412 when a header does not hold, 409 or 400 as said above.
    """
    if method in ("GET", "HEAD"):
        return
    if if_match is not None and (current is None or not _listed(current, if_match)):
        raise DocumentConflict(412, "If-Match does not match the stored document's ETag")
    if if_none_match is not None and current is not None and _listed(current, if_none_match):
        raise DocumentConflict(412, "If-None-Match matches the stored document's ETag")
    unconditional = if_match is None and if_none_match is None
    if method != "PUT" or not unconditional or (version == "1.0.3" and resource == "state"):
        return
    if current is not None:
        raise DocumentConflict(
            409,
            "the document exists: send If-Match with its ETag to replace it, "
            "or If-None-Match: * to create it only if absent",
        )
    if version == "1.0.3":
        raise DocumentConflict(
            400, "a profile PUT needs If-Match or If-None-Match (1.0.3 Communication 2.6, 2.7)"
        )


def _listed(current: str, header: str) -> bool:
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or current in tags or current.strip('"') in tags


def _is_json(content_type: str | None) -> bool:
    header = Message()
    header["Content-Type"] = content_type or ""
    return header.get_content_type() == "application/json"


def _object(content: bytes, name: str) -> dict[str, Any]:
    check_depth(content, name, "the document")
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
