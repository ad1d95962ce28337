"""What the gateway promised: every event it answered "accepted" for, and those still unknown.

A 202 with `"status": "accepted"` for an event is the promise the campaign checks at the
end. A 503, 429, 5xx, timeout or refused connection leaves the batch's events "unknown":
they wait in an outbox and are sent again, as a client does (the contract says resending
is safe), until some answer accepts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chaos.traffic import Raw

__all__ = ["Key", "Ledger", "Submitted"]

Key = tuple[str, str]
"""(userId, eventId)."""
Submitted = tuple[str, Raw]
"""An event as sent, and the user it was sent for."""

_SAMPLES = 20


@dataclass
class Ledger:
    """Accepted events by source, the unknown ones waiting to be resent, and refusals."""

    accepted: dict[Key, str] = field(default_factory=dict)
    outbox: dict[Key, Submitted] = field(default_factory=dict)
    sent: dict[str, list[Raw]] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    samples: list[dict[str, Any]] = field(default_factory=list)
    reaccepted: int = 0

    def record(self, batch: Sequence[Submitted], answer: Any, source: str) -> None:
        """Take a 202 answer: accepted events are promised, rejected ones are noted."""
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(batch):
            self.note("202 without one result per event", answer)
            return
        for (user, raw), result in zip(batch, results, strict=True):
            event_id = result.get("eventId") if isinstance(result, dict) else None
            if not isinstance(event_id, str):
                continue
            key = (user, event_id)
            if result.get("status") == "accepted":
                if key in self.accepted:
                    self.reaccepted += 1
                else:
                    self.accepted[key] = source
                    if source == "load":
                        self.sent.setdefault(user, []).append(raw)
                self.outbox.pop(key, None)
            elif source == "load":
                self.outbox.pop(key, None)
                self.rejected[str(result.get("error", "rejected"))[:120]] += 1
                self.note("a valid load event was rejected", {"event": raw, "result": result})

    def unknown(self, batch: Sequence[Submitted]) -> None:
        """No answer worth trusting: the events not yet accepted go to the outbox."""
        for user, raw in batch:
            key = (user, str(raw.get("eventId")))
            if key not in self.accepted:
                self.outbox[key] = (user, raw)

    def take_outbox(self, users: Sequence[str] | None, limit: int) -> list[Submitted]:
        """Up to `limit` unknown events to resend (of `users` only, when given)."""
        chosen: list[Submitted] = []
        for user, raw in self.outbox.values():
            if len(chosen) >= limit:
                break
            if users is None or user in users:
                chosen.append((user, raw))
        return chosen

    def note(self, what: str, detail: Any) -> None:
        """Keep a few samples of surprising answers for the report."""
        if len(self.samples) < _SAMPLES:
            self.samples.append({"what": what, "detail": _short(detail)})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        by_source = Counter(self.accepted.values())
        return {
            "accepted": len(self.accepted),
            "accepted_by_source": dict(by_source),
            "unresolved_unknown": len(self.outbox),
            "load_events_rejected": dict(self.rejected),
            "resends_accepted_again": self.reaccepted,
            "samples": self.samples,
        }


def _short(detail: Any) -> Any:
    text = repr(detail)
    return detail if len(text) <= 2000 else text[:2000] + "…"
