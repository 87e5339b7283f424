"""Idempotency keys with Stripe's rules: replay, parameter mismatch, in-use, expiry.

A key is scoped to the API key that sent it. `begin` reserves a key (or says why the request must
not run); `finish` stores the exact response (status and bytes) for later replays; `release`
forgets a reservation whose result Stripe would not keep (parameter validation errors,
injected faults). State only; the gateway decides what to do with each decision.

Stripe forgets a key after about 24 hours; then the same key runs the request again and makes a
new object. The window is the ledger's (`window_s`, 24 h unless told otherwise) and tests may
`age` every remembered key instead of waiting, so the service can be tested against expiry.
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


def check_window(window_s: float) -> float:
    """A usable window: a positive number of seconds (ValueError otherwise)."""
    if isinstance(window_s, bool) or not isinstance(window_s, int | float) or window_s <= 0:
        raise ValueError("the idempotency window must be a positive number of seconds")
    return float(window_s)


class IdempotencyLedger:
    """Keys seen within the window (24 hours by default), per API key; thread-safe."""

    def __init__(self, window_s: float = TTL_S) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._window_s = check_window(window_s)

    @property
    def window_s(self) -> float:
        return self._window_s

    def set_window(self, window_s: float) -> None:
        """Change how long keys are remembered; applies to keys already seen too."""
        checked = check_window(window_s)
        with self._lock:
            self._window_s = checked

    def age(self, seconds: float) -> None:
        """Make every remembered key `seconds` older, as if that much time had passed."""
        with self._lock:
            for entry in self._entries.values():
                entry.created -= seconds

    def begin(self, scope: str, key: str, fingerprint: str) -> Decision:
        now = time.time()
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is not None and now - entry.created > self._window_s:
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
