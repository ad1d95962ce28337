"""One HTTP write of queued events, and what its answer means for the outbox.

The outcome types name the policy's cases; `flusher.py` decides what each does to the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from .credentials import Credentials
from .models import WriteResult
from .retry import parse_retry_after

__all__ = [
    "Accepted",
    "Erased",
    "Outcome",
    "Refused",
    "RetryLater",
    "TooLarge",
    "Unauthorized",
    "send_events",
    "user_path",
]


@dataclass(frozen=True, slots=True)
class Accepted:
    """202: a result per event (accepted or rejected for good)."""

    result: WriteResult


@dataclass(frozen=True, slots=True)
class TooLarge:
    """413: the body is over the server's limit; split and resend."""


@dataclass(frozen=True, slots=True)
class Erased:
    """410: the user was erased; their events can never be stored."""


@dataclass(frozen=True, slots=True)
class Unauthorized:
    """401: the token is missing, expired or wrong."""


@dataclass(frozen=True, slots=True)
class RetryLater:
    """429, 5xx, a timeout or a network error: nothing was half-accepted, send again later."""

    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """Any other 4xx (e.g. 403): sending again will not help; the client stops with an error."""

    status: int
    message: str


Outcome = Accepted | TooLarge | Erased | Unauthorized | RetryLater | Refused


def user_path(user_id: str, suffix: str) -> str:
    """`/v1/users/{userId}/<suffix>` with the userId percent-encoded."""
    return f"/v1/users/{quote(user_id, safe='')}/{suffix}"


async def send_events(
    http: httpx.AsyncClient, credentials: Credentials, user_id: str, bodies: list[str]
) -> Outcome:
    """PUT one user's queued events (already JSON) and classify the answer.

    Never raises for HTTP or network trouble: those are outcomes too.
    """
    content = '{"events":[' + ",".join(bodies) + "]}"
    try:
        response = await http.put(
            user_path(user_id, "progress"),
            content=content.encode(),
            headers={
                "Authorization": await credentials.header(),
                "Content-Type": "application/json",
            },
        )
    except httpx.TransportError as error:
        return RetryLater(f"{type(error).__name__}: {error}")
    return classify(response)


def classify(response: httpx.Response) -> Outcome:
    """Map a write's HTTP answer onto the policy's cases."""
    status = response.status_code
    if status == 202:
        try:
            return Accepted(WriteResult.model_validate_json(response.content))
        except ValidationError:
            return Refused(status, f"unreadable 202 body: {response.text[:200]}")
    if status == 413:
        return TooLarge()
    if status == 410:
        return Erased()
    if status == 401:
        return Unauthorized()
    if status == 429 or status >= 500:
        wait = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        return RetryLater(f"HTTP {status}", wait)
    return Refused(status, response.text[:500])
