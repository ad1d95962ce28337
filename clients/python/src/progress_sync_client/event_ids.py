"""Event ids that sort by creation time: the UUIDv7 layout (RFC 9562), built from the stdlib.

Python 3.11 has no `uuid.uuid7`, and the layout is twelve lines: 48 bits of Unix milliseconds,
the version and variant bits, and 74 random bits. Ids made in one process stay in creation
order within a millisecond too, since the random part then counts up from the previous id.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ["new_event_id"]

_lock = threading.Lock()
_last_ms = 0
_last_random = 0
_RANDOM_BITS = 74
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1


def new_event_id() -> str:
    """A new eventId: a UUIDv7 string, unique across processes and ordered by time."""
    global _last_ms, _last_random
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            random_part = (_last_random + 1 + (int.from_bytes(os.urandom(2)) & 0xFF)) & _RANDOM_MASK
        else:
            random_part = int.from_bytes(os.urandom(10)) & _RANDOM_MASK
        _last_ms, _last_random = now_ms, random_part
    high_random, low_random = random_part >> 62, random_part & ((1 << 62) - 1)
    value = (now_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | high_random << 64 | 0b10 << 62 | low_random
    return str(uuid.UUID(int=value))
