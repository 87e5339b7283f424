"""PayPal OAuth2 client-credentials tokens, cached and shared by every thread of the process.

`POST /v1/oauth2/token` answers `{access_token, expires_in, ...}` (the request and what its
failures mean are paypal_http's: the one classification of PayPal's answers lives there). The
token is kept until 60 s before it expires, so a call never starts with a token about to lapse.
One lock guards the cache: when the token must be renewed, one thread fetches and the others
wait for its answer instead of each asking PayPal (the API server runs many threads).

A 401 on an API call means PayPal no longer accepts the token (revoked, rotated, clock skew):
the caller `invalidate`s exactly the token it used, so a burst of 401s causes one renewal.

Neither the secret nor a token ever appears in a log line, an exception message or a repr.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["EXPIRY_MARGIN_S", "TOKEN_PATH", "PayPalTokenCache", "TokenAnswer"]

EXPIRY_MARGIN_S = 60.0
TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 - a URL path, not a secret


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """What the token endpoint granted: the token and its lifetime in seconds."""

    value: str
    expires_in: float

    def __repr__(self) -> str:
        return f"TokenAnswer(expires_in={self.expires_in})"


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: float  # on the cache's monotonic clock

    def __repr__(self) -> str:
        return f"_Token(renew_at={self.renew_at})"


class PayPalTokenCache:
    """Hands out a valid access token, calling `fetch` for a new one only when needed."""

    def __init__(
        self,
        fetch: Callable[[], TokenAnswer],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.fetches = 0  # how many tokens were obtained: observable for tests and metrics

    def __repr__(self) -> str:
        return f"PayPalTokenCache(fetches={self.fetches})"

    def get(self) -> str:
        """A token valid for at least the next 60 seconds (PayPal's word for it)."""
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.renew_at:
                token = self._renew()
                self._token = token
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget `value` if it is still the cached token (PayPal answered 401 to it)."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _renew(self) -> _Token:
        started = self._clock()
        answer = self._fetch()
        self.fetches += 1
        # Counted from before the request: the token's lifetime started while we waited.
        renew_at = started + max(0.0, answer.expires_in - EXPIRY_MARGIN_S)
        return _Token(value=answer.value, renew_at=renew_at)
