"""One HTTP write of queued events, and the policy's decision on its answer.

`policy.decide()` reads the answer; `flusher.py` carries out the decision on the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from .credentials import Credentials
from .models import WriteResult
from .policy import Decision, decide

__all__ = ["Accepted", "NotAccepted", "Outcome", "send_events", "user_path"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """202: a result per event (accepted or rejected for good)."""

    result: WriteResult


@dataclass(frozen=True, slots=True)
class NotAccepted:
    """Any other answer, or none: what the policy decided, and what to tell a person."""

    decision: Decision
    message: str


Outcome = Accepted | NotAccepted


def user_path(user_id: str, suffix: str) -> str:
    """`/v1/users/{userId}/<suffix>` with the userId percent-encoded."""
    return f"/v1/users/{quote(user_id, safe='')}/{suffix}"


async def send_events(
    http: httpx.AsyncClient,
    credentials: Credentials,
    user_id: str,
    bodies: list[str],
    *,
    renewed: bool = False,
) -> Outcome:
    """PUT one user's queued events (already JSON) and decide on the answer.

    `renewed`: the request carries a token renewed after a 401. Never raises for HTTP or
    network trouble: those are outcomes too.
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
        decision = decide(None, None, datetime.now(UTC))
        return NotAccepted(decision, f"{type(error).__name__}: {error}")
    return _answered(response, len(bodies), renewed)


def _answered(response: httpx.Response, batch_size: int, renewed: bool) -> Outcome:
    """The outcome of a write's HTTP answer, as `decide()` reads it."""
    status = response.status_code
    retry_after = response.headers.get("Retry-After")
    decision = decide(
        status, retry_after, datetime.now(UTC), batch_size=batch_size, renewed=renewed
    )
    if decision.action == "accept":
        try:
            return Accepted(WriteResult.model_validate_json(response.content))
        except ValidationError:
            unreadable = f"HTTP {status}: unreadable body: {response.text[:200]}"
            return NotAccepted(Decision("error"), unreadable)
    if decision.action == "error":
        after = " after a token refresh" if status == 401 else ""
        return NotAccepted(decision, f"HTTP {status}{after}: {response.text[:500]}")
    return NotAccepted(decision, f"HTTP {status}")
