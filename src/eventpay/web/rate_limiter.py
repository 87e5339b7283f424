"""`RateLimiter`: token buckets keyed by caller, in this process's memory.

The mechanism only: nothing here knows HTTP, routes, principals or settings (`rate_limits.py`
decides who is counted against which budget and what a refusal looks like).

Each key has a bucket of `capacity` tokens that refills continuously at `per_minute / 60` tokens
per second; a request takes one token or is refused with the time until one is back. One lock
per limiter makes it safe from uvicorn's thread pool. Memory is bounded: a bucket left alone long
enough to refill completely is dropped (a new bucket for that key would be identical), and past
`max_keys` the least recently seen key is dropped too, which can only ever let that caller in
early, never refuse anyone wrongly. The clock is monotonic and injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

MonotonicClock = Callable[[], float]

DEFAULT_MAX_KEYS = 50_000
# A caller that waited exactly as long as it was told must not be refused over float rounding.
_ROUNDING_SLACK = 1e-9


@dataclass(frozen=True)
class Decision:
    allowed: bool
    wait_s: float = 0.0
    """When refused: seconds until this key's next request would be allowed."""


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


class RateLimiter:
    def __init__(
        self,
        *,
        per_minute: int,
        capacity: int | None = None,
        clock: MonotonicClock = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        if capacity is not None and capacity < 1:
            raise ValueError("capacity must be at least 1")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.per_minute = per_minute
        self.capacity = capacity if capacity is not None else per_minute
        self._rate_per_s = per_minute / 60.0
        self._refilled_after_s = self.capacity / self._rate_per_s
        self._clock = clock
        self._max_keys = max_keys
        # Least recently used first: the front is always the longest idle bucket.
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are remembered right now."""
        with self._lock:
            return len(self._buckets)

    def acquire(self, key: Hashable) -> Decision:
        """Take one token from `key`'s bucket, or say how long until one is back."""
        with self._lock:
            now = self._clock()
            self._drop_refilled(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(float(self.capacity), now)
                self._buckets[key] = bucket
                if len(self._buckets) > self._max_keys:
                    self._buckets.popitem(last=False)
            else:
                # max(): a clock that stepped back must not drain anyone's bucket.
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self._rate_per_s)
                bucket.updated = now
                self._buckets.move_to_end(key)
            if bucket.tokens >= 1.0 - _ROUNDING_SLACK:
                bucket.tokens = max(0.0, bucket.tokens - 1.0)
                return Decision(allowed=True)
            return Decision(allowed=False, wait_s=(1.0 - bucket.tokens) / self._rate_per_s)

    def _drop_refilled(self, now: float) -> None:
        # Each bucket is dropped at most once per insertion, so this is O(1) amortised.
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if now - oldest.updated < self._refilled_after_s:
                return
            self._buckets.popitem(last=False)
