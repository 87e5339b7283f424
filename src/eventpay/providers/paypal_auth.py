"""PayPal OAuth2 client-credentials tokens, cached and shared by every thread of the process.

`POST /v1/oauth2/token` with HTTP Basic `client_id:client_secret` and
`grant_type=client_credentials` answers `{access_token, expires_in, ...}`. The token is kept
until 60 s before it expires, so a call never starts with a token about to lapse. One lock
guards the cache: when the token must be renewed, one thread fetches and the others wait for
its answer instead of each asking PayPal (the API server runs many threads).

A 401 on an API call means PayPal no longer accepts the token (revoked, rotated, clock skew):
the caller `invalidate`s exactly the token it used, so a burst of 401s causes one renewal.

Neither the secret nor a token ever appears in a log line, an exception message or a repr.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from eventpay.ports import ProviderOutcomeUnknown, ProviderRejected

__all__ = ["EXPIRY_MARGIN_S", "PayPalTokenCache"]

EXPIRY_MARGIN_S = 60.0
TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 - a URL path, not a secret


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: float  # on the cache's monotonic clock

    def __repr__(self) -> str:
        return f"_Token(renew_at={self.renew_at})"


class PayPalTokenCache:
    """Hands out a valid access token, fetching a new one only when needed."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str,
        http: httpx.Client,
        timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._auth = (client_id, client_secret)
        self._url = api_base.rstrip("/") + TOKEN_PATH
        self._http = http
        self._timeout = timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.fetches = 0  # how many tokens were obtained: observable for tests and metrics

    def __repr__(self) -> str:
        return f"PayPalTokenCache(url={self._url!r})"

    def get(self) -> str:
        """A token valid for at least the next 60 seconds (PayPal's word for it)."""
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.renew_at:
                token = self._fetch()
                self._token = token
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget `value` if it is still the cached token (PayPal answered 401 to it)."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _fetch(self) -> _Token:
        started = self._clock()
        try:
            response = self._http.post(
                self._url,
                auth=self._auth,
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.RequestError:
            raise ProviderOutcomeUnknown(
                "provider_unreachable", "PayPal did not answer the token request in time"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderOutcomeUnknown(
                "provider_error", f"PayPal answered {response.status_code} to the token request"
            )
        if response.status_code != 200:
            # 401 invalid_client: the credentials are wrong; retrying cannot help.
            raise ProviderRejected(
                "authentication_failed",
                f"PayPal refused the client credentials ({response.status_code})",
            )
        try:
            body = response.json()
            value = body["access_token"]
            expires_in = float(body.get("expires_in", 0))
        except (ValueError, KeyError, TypeError):
            raise ProviderOutcomeUnknown(
                "malformed_response", "PayPal's token answer could not be read"
            ) from None
        if not isinstance(value, str) or not value:
            raise ProviderOutcomeUnknown("malformed_response", "PayPal's token answer is empty")
        self.fetches += 1
        # Counted from before the request: the token's lifetime started while we waited.
        return _Token(value=value, renew_at=started + max(0.0, expires_in - EXPIRY_MARGIN_S))
