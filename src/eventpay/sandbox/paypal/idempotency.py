"""`PayPal-Request-Id`: the first answer to a request id is the answer to every retry of it.

Scope: a request id counts per client id, method and path, so the same id sent to two
different captures is two requests. PayPal serialises duplicates, so a duplicate that arrives
while the first request still runs waits for it and gets its answer (`Wait`), never a 409.

Same id with a different body: PayPal's documented behaviour is to return the original
response, and this ledger does the same (`Replay(mismatch=True)`): an adapter must not depend
on an error that production never sends. The mismatch is counted (`/_sandbox/idempotency`) and
flagged with a `Sandbox-Request-Mismatch: true` header, so tests can still catch an adapter
that reuses ids for different requests.

Only successful (2xx) answers are kept. An error (a decline, a validation error, an injected
fault) releases the id, so a retry after fixing the cause runs again instead of replaying the
failure.

How long an id is remembered is PayPal's documented window per API: "The server stores keys
for 6 hours" (Orders v2: create, capture) and "for 45 days" (Payments v2: refunds). After it,
the id is forgotten and the same id runs as a new request, as at PayPal. `window_s` replaces
both (a demo or test that wants a short window: the app's `request_id_window_s`, or `POST
/_sandbox/idempotency/window`), and `age` makes every id remembered so far that much older, so a
test steps past the window without waiting (`POST /_sandbox/idempotency/age`, as the Stripe
sandbox names it). State only; the gateway decides what to do with each decision.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ORDERS_WINDOW_S = 6 * 60 * 60
PAYMENTS_WINDOW_S = 45 * 24 * 60 * 60
MAX_ID_LENGTH = 108

Scope = tuple[str, str, str, str]  # client id, method, path, PayPal-Request-Id


@dataclass(frozen=True)
class StoredResponse:
    """The first successful answer for an id, replayed byte for byte."""

    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Replay:
    response: StoredResponse
    mismatch: bool


@dataclass(frozen=True)
class Wait:
    """Another request with this id is running: wait for `done`, then ask again."""

    done: asyncio.Event


@dataclass(frozen=True)
class Proceed:
    """The id is reserved for this request: run it, then `finish` or `release`."""


Decision = Replay | Wait | Proceed


def _positive(window_s: float | None) -> float | None:
    if window_s is not None and not window_s > 0:
        raise ValueError("the request id window must be positive")
    return window_s


@dataclass
class _Entry:
    fingerprint: str
    created: float
    response: StoredResponse | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RequestIdLedger:
    """Request ids seen recently; the asyncio events are only awaited on the server's loop."""

    def __init__(
        self, *, window_s: float | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.window_s = self._initial_window = _positive(window_s)
        self._clock = clock
        self._skew = 0.0
        self._lock = threading.Lock()
        self._entries: dict[Scope, _Entry] = {}
        self._replays = 0
        self._mismatches = 0
        self._expired = 0

    def window_for(self, path: str) -> float:
        """How long an id sent to `path` is remembered."""
        if self.window_s is not None:
            return self.window_s
        return PAYMENTS_WINDOW_S if path.startswith("/v2/payments/") else ORDERS_WINDOW_S

    def set_window(self, window_s: float | None) -> None:
        """One window for every API from now on; None: PayPal's own windows again."""
        self.window_s = _positive(window_s)

    def age(self, seconds: float) -> float:
        """Make every id remembered so far `seconds` older (the ledger's clock moves on)."""
        if seconds < 0:
            raise ValueError("ids only get older")
        with self._lock:
            self._skew += seconds
            return self._skew

    def begin(self, scope: Scope, fingerprint: str) -> Decision:
        now = self._clock() + self._skew
        with self._lock:
            entry = self._entries.get(scope)
            if (
                entry is not None
                and entry.response is not None
                and now - entry.created > self.window_for(scope[2])
            ):
                del self._entries[scope]
                self._expired += 1
                entry = None
            if entry is None:
                self._entries[scope] = _Entry(fingerprint, now)
                return Proceed()
            if entry.response is None:
                return Wait(entry.done)
            mismatch = entry.fingerprint != fingerprint
            self._replays += 1
            self._mismatches += int(mismatch)
            return Replay(entry.response, mismatch)

    def finish(self, scope: Scope, response: StoredResponse) -> None:
        with self._lock:
            entry = self._entries.get(scope)
            if entry is not None:
                entry.response = response
                entry.done.set()

    def release(self, scope: Scope) -> None:
        with self._lock:
            entry = self._entries.get(scope)
            if entry is not None and entry.response is None:
                del self._entries[scope]
                entry.done.set()

    def clear(self) -> None:
        with self._lock:
            for entry in self._entries.values():
                entry.done.set()
            self._entries.clear()
            self._replays = self._mismatches = self._expired = 0
            self._skew = 0.0
            self.window_s = self._initial_window

    def counts(self) -> dict[str, int]:
        """Ids remembered, ids held by running requests, replays, mismatched replays and ids
        forgotten after their window."""
        with self._lock:
            running = sum(1 for entry in self._entries.values() if entry.response is None)
            return {
                "request_ids": len(self._entries),
                "in_flight": running,
                "replays": self._replays,
                "mismatched_replays": self._mismatches,
                "expired": self._expired,
            }
