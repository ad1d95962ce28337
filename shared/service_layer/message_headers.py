"""The headers of the messages on the progress topics: what a delivery and a failure carry.

Transport metadata, not part of an event: the Kafka adapters write them, and `records`
reads a failed delivery's history back from them.
"""

from __future__ import annotations

__all__ = [
    "HEADER_ATTEMPT",
    "HEADER_CONTENT_TYPE",
    "HEADER_DUE_AT",
    "HEADER_ERROR",
    "HEADER_ERROR_HISTORY",
    "HEADER_FIRST_FAILED_AT",
    "HEADER_ORIGINAL_OFFSET",
    "HEADER_ORIGINAL_PARTITION",
    "HEADER_ORIGINAL_TOPIC",
    "HEADER_REASON",
    "HEADER_REQUEST_ID",
    "HEADER_SCHEMA_VERSION",
    "JSON_CONTENT_TYPE",
    "SCHEMA_VERSION",
]

SCHEMA_VERSION = "1"
"""Version of the recorded event's JSON on the topics (header `schema-version`)."""

JSON_CONTENT_TYPE = "application/json"

HEADER_CONTENT_TYPE = "content-type"
HEADER_SCHEMA_VERSION = "schema-version"
HEADER_REQUEST_ID = "request-id"
HEADER_ATTEMPT = "attempt"
HEADER_ERROR = "error"
HEADER_ERROR_HISTORY = "error-history"
HEADER_ORIGINAL_TOPIC = "original-topic"
HEADER_ORIGINAL_PARTITION = "original-partition"
HEADER_ORIGINAL_OFFSET = "original-offset"
HEADER_FIRST_FAILED_AT = "first-failed-at"
HEADER_DUE_AT = "due-at"
HEADER_REASON = "reason"
