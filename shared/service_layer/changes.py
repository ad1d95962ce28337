"""Snapshot change announcements: which user's snapshot moved, and to which log position.

Every snapshot writer (projector, retry worker, rebuild) and erasure announce what they
wrote on `progress.changes` after the write and before committing their input, so a
follower (the insights consumer, live sync) learns of every committed change at least once.
An announcement names the user and the cursor only: followers read the current state, so
a repeated, late or reordered announcement is harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.service_layer.user_keys import UserKey

__all__ = ["SnapshotChange"]


@dataclass(frozen=True, slots=True)
class SnapshotChange:
    """A user's snapshot now reflects their log up to `cursor` (0: no snapshot, e.g. erased)."""

    tenant_id: str
    user_id: str
    cursor: int

    @property
    def key(self) -> UserKey:
        """The (tenant, user) the change belongs to."""
        return self.tenant_id, self.user_id

    def to_json(self) -> bytes:
        """The message value: `{"tenantId", "userId", "cursor"}` as compact JSON."""
        return json.dumps(
            {"tenantId": self.tenant_id, "userId": self.user_id, "cursor": self.cursor},
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, value: bytes) -> SnapshotChange:
        """Read a message value `to_json` wrote.

        Raises:
            ValueError: If `value` is not such a message.
        """
        data: Any = json.loads(value)
        if not isinstance(data, dict):
            raise ValueError("a change announcement is a JSON object")
        tenant, user, cursor = data.get("tenantId"), data.get("userId"), data.get("cursor")
        if not isinstance(tenant, str) or not isinstance(user, str):
            raise ValueError("a change announcement names tenantId and userId as strings")
        if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
            raise ValueError("a change announcement's cursor is a non-negative integer")
        return cls(tenant, user, cursor)
