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
failure. Ids are remembered for 6 hours (the Orders API's documented window). State only; the
gateway decides what to do with each decision.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

TTL_S = 6 * 60 * 60
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


@dataclass
class _Entry:
    fingerprint: str
    created: float
    response: StoredResponse | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RequestIdLedger:
    """Request ids seen recently; the asyncio events are only awaited on the server's loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Scope, _Entry] = {}
        self._replays = 0
        self._mismatches = 0

    def begin(self, scope: Scope, fingerprint: str) -> Decision:
        now = time.time()
        with self._lock:
            entry = self._entries.get(scope)
            if entry is not None and entry.response is not None and now - entry.created > TTL_S:
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
            self._replays = self._mismatches = 0

    def counts(self) -> dict[str, int]:
        """Ids remembered, ids held by running requests, replays and mismatched replays."""
        with self._lock:
            running = sum(1 for entry in self._entries.values() if entry.response is None)
            return {
                "request_ids": len(self._entries),
                "in_flight": running,
                "replays": self._replays,
                "mismatched_replays": self._mismatches,
            }
