"""Dead letters: what will not be retried, how it is stored and how letters are selected."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.service_layer.deliveries import Attempt

__all__ = ["PENDING", "REPLAYED", "DeadLetter", "LetterFilter", "LetterState", "StoredLetter"]

LetterState = Literal["pending", "replayed"]
PENDING: LetterState = "pending"
REPLAYED: LetterState = "replayed"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event (or the raw bytes of an undecodable message) that will not be retried."""

    reason: str
    raw: bytes
    key: bytes | None
    attempts: list[Attempt]
    original_topic: str
    original_partition: int
    original_offset: int
    request_id: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None

    @property
    def letter_id(self) -> str:
        """Derived from the original coordinates and bytes: one message, one letter."""
        fingerprint = hashlib.sha256(
            f"{self.original_topic}/{self.original_partition}/{self.original_offset}/".encode()
            + self.raw
        )
        return fingerprint.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class StoredLetter:
    """A dead letter as stored, with its id, state and replay history."""

    letter_id: str
    letter: DeadLetter
    failed_at: datetime
    state: LetterState
    replays: int
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LetterFilter:
    """Which letters to select; every field left `None` selects all."""

    tenant_id: str | None = None
    since: datetime | None = None
    event_type: str | None = None
    state: LetterState | None = None
