"""The project's own failure kinds: adapters translate driver errors into these, at one edge.

Use cases then decide by one `except` per meaning: an outage pauses and retries later; a
refusal is about one record and will not pass on retry.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BrokerUnavailable",
    "ConcurrentChange",
    "SnapshotUnreadable",
    "StoreRejected",
    "StoreTimeout",
    "StoreUnavailable",
]


class StoreUnavailable(Exception):
    """MongoDB cannot be reached or did not answer in time: an outage, never the message's fault.

    Consumers pause and retry later; nothing goes to a retry tier or the dead letters because
    of it. A write that raised this may still have been applied, so every write is idempotent.
    """


class StoreTimeout(StoreUnavailable):
    """MongoDB did not answer within the bound: down, frozen, or the work was too big."""


class StoreRejected(Exception):
    """MongoDB refused the request itself (a document too large, invalid): retrying won't help."""


class ConcurrentChange(Exception):
    """A conditional write lost to concurrent writers on every attempt: a conflict, not a refusal.

    Nothing was written; reading again and retrying may pass (the gateway answers 409).
    """


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge in time: the caller answers 503 or backs off.

    `event_types` are the types of the events left unacknowledged, when the publisher knows
    them (the gateway counts them per type).
    """

    def __init__(self, message: str = "", event_types: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.event_types = tuple(event_types)


class SnapshotUnreadable(Exception):
    """A user's stored snapshot, and the log it came from, cannot be read back.

    One user's problem: `progressctl rebuild --tenant T --user U` repairs it once the cause
    (an event written before values were bounded) is dealt with.
    """
