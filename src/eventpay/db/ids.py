"""Time-ordered UUIDs (version 7 layout) for append-only tables.

Audit rows written in one transaction share a timestamp; ordering them by a v7 id keeps the
order they were written in. Within one process ids strictly increase (a counter fills the
12 bits after the millisecond timestamp); across processes they are ordered by millisecond.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = (0, 0)


def uuid7() -> uuid.UUID:
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, counter = _last
        if millis <= last_millis:
            millis, counter = last_millis, counter + 1
            if counter > 0xFFF:
                millis, counter = last_millis + 1, 0
        else:
            counter = 0
        _last = (millis, counter)
    tail = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | tail
    return uuid.UUID(int=value)
