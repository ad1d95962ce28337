"""A message as it sits on a topic, as parking keeps it and re-publishing puts it back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.service_layer.user_keys import UserKey

__all__ = ["TopicMessage"]


@dataclass(frozen=True, slots=True)
class TopicMessage:
    """A message as it sits on a topic: what parking keeps and re-publishing puts back."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def message_id(self) -> str:
        """Derived from everything the message carries, so parking it twice stores it once."""
        digest = hashlib.sha256()
        key = b"\x00" if self.key is None else b"\x01" + self.key
        parts = [self.topic.encode(), key, self.value]
        parts += [name.encode() + b"\x00" + value for name, value in self.headers]
        for part in parts:
            digest.update(len(part).to_bytes(8, "big") + part)
        return digest.hexdigest()[:32]

    @property
    def owner(self) -> UserKey | None:
        """The (tenant, user) of the key `tenantId/userId`, or None for any other key."""
        tenant, separator, user = (self.key or b"").decode(errors="replace").partition("/")
        return (tenant, user) if separator and tenant and user else None
