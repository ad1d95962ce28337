"""The client policy both SDKs share (DESIGN "One client policy"): what to do with each answer.

`clients/golden/policy-vectors.json` holds it as data; `tests/sdk_python/test_policy_vectors.py`
runs it here and the browser SDK's tests run the same file against `decide()` in
`clients/js/src/policy.ts`. `decide()` is the one place this SDK reads the status of a write
or of a live stream: a new retry rule goes there (and into the vectors). How long a retry
waits is `retry.py`'s (Retry-After first, else the backoff schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .retry import parse_retry_after

__all__ = ["Action", "Decision", "decide"]

Action = Literal["accept", "retry", "renew_token", "split", "drop_and_report", "error"]
"""What the client does next, named as in clients/golden/policy-vectors.json."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer: the action, and what it needs."""

    action: Action
    retry_after: float | None = None
    """For `retry`: the server's Retry-After in seconds (None: the backoff step applies)."""
    reason: Literal["too_large", "erased"] | None = None
    """For `drop_and_report`: why the events can never be stored."""


def decide(
    status: int | None,
    retry_after: str | None,
    now: datetime,
    *,
    batch_size: int = 1,
    renewed: bool = False,
) -> Decision:
    """The decision for an answer with `status` (None: a network error or a timeout).

    Retry 429, 5xx and network errors (Retry-After honoured); on 401 renew the token once
    (`renewed`: the request already carried a renewed one); on 413 split a batch, and drop and
    report a single event; on 410 drop and report the user's events; any other 4xx is an
    error, never a silent drop.
    """
    if status is None or status == 429 or status >= 500:
        return Decision("retry", retry_after=parse_retry_after(retry_after, now))
    if 200 <= status < 300:
        return Decision("accept")
    if status == 401:
        return Decision("error" if renewed else "renew_token")
    if status == 413:
        return (
            Decision("split") if batch_size > 1 else Decision("drop_and_report", reason="too_large")
        )
    if status == 410:
        return Decision("drop_and_report", reason="erased")
    return Decision("error")
