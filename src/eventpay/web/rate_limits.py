"""Who is rate limited by which budget, and the 429 a refused request gets.

Every `/v1` route except the provider webhooks declares one budget with a dependency:

- `WRITE_BUDGET`: authenticated POSTs that create or move money (orders, payments, capture,
  refunds), per user id, `rate_limit_writes_per_minute`;
- `READ_BUDGET`: the other authenticated routes, per user id, `rate_limit_per_minute`;
- `PUBLIC_BUDGET`: unauthenticated routes (catalog, payment config, PayPal's way back), per
  client IP, `rate_limit_per_minute` in buckets of their own.

Provider webhooks are never limited (providers burst, and a dropped delivery is lost money news),
nor are `/healthz`, `/readyz` and `/metrics`. The budget is checked before the handler runs, so a
refused request changes nothing. An authenticated budget shares the handler's caller: FastAPI
solves `get_caller` once per request. The limits live in this process only (docs/operations.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastapi import Depends, Request

from eventpay.config import Settings
from eventpay.web.deps import CallerDep, client_ip, container_of
from eventpay.web.errors import ApiError
from eventpay.web.rate_limiter import MonotonicClock, RateLimiter


class RouteClass(StrEnum):
    WRITE = "write"
    READ = "read"
    PUBLIC = "public"


@dataclass(frozen=True)
class RateLimits:
    """One limiter per route class; none at all when rate limiting is switched off."""

    limiters: dict[RouteClass, RateLimiter] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: MonotonicClock = time.monotonic
    ) -> RateLimits:
        if not settings.rate_limit_enabled:
            return cls()
        reads, writes = settings.rate_limit_per_minute, settings.rate_limit_writes_per_minute
        return cls(
            {
                RouteClass.WRITE: RateLimiter(per_minute=writes, clock=clock),
                RouteClass.READ: RateLimiter(per_minute=reads, clock=clock),
                RouteClass.PUBLIC: RateLimiter(per_minute=reads, clock=clock),
            }
        )

    def spend(self, route_class: RouteClass, key: str) -> int | None:
        """Spend one of `key`'s requests: None if it may go on, else seconds to wait (>= 1)."""
        limiter = self.limiters.get(route_class)
        if limiter is None:
            return None
        decision = limiter.acquire(key)
        if decision.allowed:
            return None
        return max(1, math.ceil(decision.wait_s))


RATE_LIMITED_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many requests from this caller; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    }
}


def _enforce(request: Request, route_class: RouteClass, key: str) -> None:
    limits: RateLimits = request.app.state.rate_limits
    retry_after = limits.spend(route_class, key)
    if retry_after is None:
        return
    container_of(request).metrics.rate_limited.labels(route_class.value).inc()
    raise ApiError(
        429,
        "rate_limited",
        f"Too many requests; retry in {retry_after} s.",
        details={"retry_after_s": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


# async: FastAPI would run plain-function dependencies in the thread pool, a hop per request.
async def _limit_public(request: Request) -> None:
    _enforce(request, RouteClass.PUBLIC, client_ip(request) or "unknown")


async def _limit_reads(request: Request, caller: CallerDep) -> None:
    _enforce(request, RouteClass.READ, caller.user_id)


async def _limit_writes(request: Request, caller: CallerDep) -> None:
    _enforce(request, RouteClass.WRITE, caller.user_id)


PUBLIC_BUDGET = Depends(_limit_public)
READ_BUDGET = Depends(_limit_reads)
WRITE_BUDGET = Depends(_limit_writes)
