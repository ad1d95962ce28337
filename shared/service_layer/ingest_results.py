"""What ingest takes and gives: submitted events, and each one's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain import ProgressEvent, RecordedEvent
from shared.domain.wire import ID_MAX_LENGTH
from shared.service_layer.user_keys import UserKey

__all__ = ["EventOutcome", "IngestResult", "Submission"]

_TYPE_LABEL_MAX = 32


@dataclass(frozen=True, slots=True)
class Submission:
    """One event as sent, and the user it is for (None: the user field itself was invalid)."""

    user_id: str | None
    raw: object = None
    """The event as sent (decoded JSON), validated by ingest."""
    built: ProgressEvent | None = None
    """Or an event a use case built typed (xAPI's), taken as it is instead of `raw`."""

    @property
    def event_id(self) -> str | None:
        """The eventId as sent, if it is a string of a plausible length."""
        if self.built is not None:
            return self.built.event_id
        value = self.raw.get("eventId") if isinstance(self.raw, dict) else None
        return value if isinstance(value, str) and len(value) <= ID_MAX_LENGTH else None

    @property
    def type_name(self) -> str | None:
        """The type as sent, if it is a short string (not necessarily a known type)."""
        if self.built is not None:
            return self.built.type
        value = self.raw.get("type") if isinstance(self.raw, dict) else None
        return value if isinstance(value, str) and len(value) <= _TYPE_LABEL_MAX else None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """The answer for one submitted event, in request order.

    A rejected event has an `error` for people, a `code` for programs (`invalid_event`,
    `erased`, `quota`, `unknown_course`) and, where one field is at fault, its dotted path in
    `field`.
    """

    event_id: str | None
    accepted: bool
    error: str | None = None
    type_name: str | None = None
    code: str | None = None
    field: str | None = None
    clock_adjusted: bool = False
    """The device's occurredAt ran too far ahead and was replaced by the receive time."""


@dataclass(slots=True)
class IngestResult:
    """Every event's outcome, and the events handed to the broker."""

    outcomes: list[EventOutcome] = field(default_factory=list)
    published: list[RecordedEvent] = field(default_factory=list)
    tokens: dict[UserKey, str] = field(default_factory=dict)
    """A consistency token per user with accepted events (read-your-writes)."""

    @property
    def rejected(self) -> int:
        """How many events were rejected."""
        return sum(not outcome.accepted for outcome in self.outcomes)
