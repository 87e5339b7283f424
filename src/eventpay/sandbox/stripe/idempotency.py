"""Idempotency keys with Stripe's rules: replay, parameter mismatch, in-use, 24-hour expiry.

A key is scoped to the API key that sent it. `begin` reserves a key (or says why the request must
not run); `finish` stores the exact response (status and bytes) for later replays; `release`
forgets a reservation whose result Stripe would not keep (parameter validation errors,
injected faults). State only; the gateway decides what to do with each decision.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .errors import IdempotencyError, IdempotencyKeyInUse, StripeError

TTL_S = 24 * 60 * 60
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """The first answer given for a key, replayed byte for byte."""

    status: int
    body: bytes
    request_id: str


@dataclass(frozen=True)
class Replay:
    """Answer with the stored response."""

    response: StoredResponse


@dataclass(frozen=True)
class Refuse:
    """Answer with an error without running the request."""

    error: StripeError


@dataclass(frozen=True)
class Proceed:
    """The key is reserved for this request: run it, then `finish` or `release`."""


Decision = Replay | Refuse | Proceed


@dataclass
class _Entry:
    fingerprint: str
    created: float
    response: StoredResponse | None


class IdempotencyLedger:
    """Keys seen in the last 24 hours, per API key; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def begin(self, scope: str, key: str, fingerprint: str) -> Decision:
        now = time.time()
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is not None and now - entry.created > TTL_S:
                entry = None
            if entry is None:
                self._entries[(scope, key)] = _Entry(fingerprint, now, None)
                return Proceed()
            if entry.response is None:
                return Refuse(IdempotencyKeyInUse())
            if entry.fingerprint != fingerprint:
                return Refuse(
                    IdempotencyError(
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request."
                    )
                )
            return Replay(entry.response)

    def finish(self, scope: str, key: str, response: StoredResponse) -> None:
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is not None:
                entry.response = response

    def release(self, scope: str, key: str) -> None:
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is not None and entry.response is None:
                del self._entries[(scope, key)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def counts(self) -> dict[str, int]:
        """Keys remembered and keys held by requests still running (tests wait on the latter)."""
        with self._lock:
            running = sum(1 for entry in self._entries.values() if entry.response is None)
            return {"keys": len(self._entries), "in_flight": running}
