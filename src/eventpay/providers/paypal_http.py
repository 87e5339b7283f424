"""The authenticated PayPal REST client, and the one classification of what PayPal answers.

One `PayPalApi` per process: it fetches tokens for `PayPalTokenCache`, adds the bearer token
and the `PayPal-Request-Id` of every mutating call, and turns every answer into a value or one
of the ports' errors, here and nowhere else:

    what happened                               raised                  code
    no answer: timeout, refused, reset          ProviderOutcomeUnknown  provider_unreachable
    token endpoint refuses us (401
      invalid_client, any other 4xx)            ProviderMisconfigured   provider_misconfigured
    401 to a freshly issued token               ProviderMisconfigured   provider_misconfigured
    403 NOT_AUTHORIZED / PERMISSION_DENIED      ProviderMisconfigured   provider_misconfigured
    other 4xx a sound request never gets
      (405, 406, 415), or 400/404/422 without
      PayPal's error body (wrong api_base)      ProviderMisconfigured   provider_misconfigured
    409 PREVIOUS_REQUEST_IN_PROGRESS, 429       ProviderOutcomeUnknown  provider_busy
    5xx, 3xx (redirects are never followed)     ProviderOutcomeUnknown  provider_error
    2xx that is not a JSON object, or lacks
      what the caller reads (id, status,
      amount)                                   ProviderOutcomeUnknown  provider_malformed_answer
    400 INVALID_REQUEST, 404 RESOURCE_NOT_
      FOUND, 422 UNPROCESSABLE_ENTITY, with
      PayPal's error body                       PayPalRejected          PayPal's issue (details
                                                (a ProviderRejected)    [0].issue, else name)

Only the last row is a definite answer: PayPal documents those refusals and did nothing. Our
credentials, permissions or address being wrong say nothing about money: the work stays
retriable and succeeds once the configuration is fixed. A 401 on an API call is first taken
as an expired token: it is renewed once and the call sent again with the same request id
(PayPal did nothing with the refused call). Other refusals raised before any call:
`UnsupportedAmount` (paypal_money), `DuplicatePayoutBatch` (paypal_payouts) is a PayPalRejected.
Nothing here logs; messages carry PayPal's description and debug id, never a token or secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from eventpay.ports import (
    ProviderError,
    ProviderMisconfigured,
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from eventpay.providers.paypal_auth import TOKEN_PATH, PayPalTokenCache, TokenAnswer

__all__ = [
    "MALFORMED",
    "MISCONFIGURED",
    "PayPalApi",
    "PayPalRejected",
    "classify",
    "malformed",
    "reading",
    "rejection_from",
]

MALFORMED = "provider_malformed_answer"
MISCONFIGURED = "provider_misconfigured"
_MESSAGE_LIMIT = 300
_DEFINITE = frozenset({400, 404, 422})
# Multipart parts: (filename, content, content type); PayPal reads the `input` part as JSON.
Part = tuple[str | None, bytes, str]


class PayPalRejected(ProviderRejected):
    """PayPal refused the call for a documented reason (400, 404, 422): nothing happened."""

    def __init__(self, code: str, message: str, *, status_code: int, body: Mapping[str, Any]):
        super().__init__(code, message)
        self.status_code = status_code
        self.body = body


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def malformed(what: str) -> ProviderOutcomeUnknown:
    """A 2xx answer we cannot read: the call may well have taken effect."""
    return ProviderOutcomeUnknown(MALFORMED, f"PayPal's {what} could not be read")


def rejection_from(status_code: int, body: Any) -> PayPalRejected:
    """Our error for a PayPal error body (`{name, message, details: [{issue, description}]}`)."""
    error: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    details = error.get("details")
    first: Mapping[str, Any] = (
        details[0]
        if isinstance(details, list) and details and isinstance(details[0], Mapping)
        else {}
    )
    # OAuth-style errors (`{"error": "invalid_token", "error_description": ...}`) too.
    code = (
        _text(first.get("issue"))
        or _text(error.get("name"))
        or _text(error.get("error"))
        or f"http_{status_code}"
    )
    said = (
        _text(first.get("description"))
        or _text(error.get("message"))
        or _text(error.get("error_description"))
        or f"PayPal answered {status_code}"
    )
    debug_id = _text(error.get("debug_id"))
    message = said[:_MESSAGE_LIMIT] + (f" (debug_id {debug_id[:64]})" if debug_id else "")
    return PayPalRejected(code, message, status_code=status_code, body=error)


def _is_paypal_error(body: Any) -> bool:
    return isinstance(body, Mapping) and bool(_text(body.get("name")) or _text(body.get("error")))


def classify(status: int, body: Any, *, what: str) -> ProviderError:
    """The error for a non-2xx answer to `what` ("POST /v2/..."); see the module's table."""
    if status == 401:
        return ProviderMisconfigured(
            MISCONFIGURED,
            "PayPal refused our access token even after renewing it (401): "
            "check the PayPal client id and secret",
        )
    if status == 403:
        said = rejection_from(status, body)
        return ProviderMisconfigured(
            MISCONFIGURED,
            f"PayPal says our app may not {what} (403 {said.code}): check the app's permissions",
        )
    if status in (409, 429):
        return ProviderOutcomeUnknown("provider_busy", f"PayPal asked us to retry later ({status})")
    if status >= 500 or status < 400:
        return ProviderOutcomeUnknown("provider_error", f"PayPal answered {status} to {what}")
    if status in _DEFINITE and _is_paypal_error(body):
        return rejection_from(status, body)
    return ProviderMisconfigured(
        MISCONFIGURED,
        f"{what} answered {status} without a PayPal error: check the PayPal API address",
    )


def _token_failure(status: int) -> ProviderError:
    if status >= 500 or status in (409, 429):
        return ProviderOutcomeUnknown(
            "provider_error", f"PayPal answered {status} to the token request"
        )
    # 401 invalid_client above all: wrong or rotated credentials; retrying cannot help until
    # someone fixes them, and no money was asked about.
    return ProviderMisconfigured(
        MISCONFIGURED,
        f"PayPal refused our client credentials ({status}): check the PayPal client id and secret",
    )


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Report an answer we cannot read as `ProviderOutcomeUnknown`: the call did happen."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise malformed(what) from None


class PayPalApi:
    """Sends one authenticated request and returns PayPal's JSON answer (or raises)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str,
        timeout_s: float = 10.0,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(follow_redirects=False)
        self._timeout = timeout_s
        self._auth = (client_id, client_secret)
        self.tokens = PayPalTokenCache(self._fetch_token, clock=clock)

    def __repr__(self) -> str:
        return f"PayPalApi(api_base={self.api_base!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        raw_json: bytes | None = None,
        files: Mapping[str, Part] | None = None,
        params: Mapping[str, str] | None = None,
        request_id: str | None = None,
        representation: bool = False,
    ) -> dict[str, Any]:
        """`method path` with the token; the JSON object answered ({} for an empty body).

        `raw_json` sends JSON text exactly as given (a webhook body PayPal must see unchanged).
        """
        headers = {"Accept": "application/json"}
        content: bytes | None = None
        if raw_json is not None:
            headers["Content-Type"] = "application/json"
            content = raw_json
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        if representation:
            headers["Prefer"] = "return=representation"
        send = {"json": json, "content": content, "files": files, "params": params}
        token = self.tokens.get()
        response = self._send(method, path, headers, token, **send)
        if response.status_code == 401:
            self.tokens.invalidate(token)
            token = self.tokens.get()
            response = self._send(method, path, headers, token, **send)
        return _answer(response, f"{method} {path}")

    def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        token: str,
        **send: Any,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method,
                self.api_base + path,
                headers={**headers, "Authorization": f"Bearer {token}"},
                timeout=self._timeout,
                follow_redirects=False,
                **send,
            )
        except httpx.RequestError:
            raise ProviderOutcomeUnknown(
                "provider_unreachable", f"PayPal did not answer {method} {path} in time"
            ) from None

    def _fetch_token(self) -> TokenAnswer:
        try:
            response = self._http.post(
                self.api_base + TOKEN_PATH,
                auth=self._auth,
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.RequestError:
            raise ProviderOutcomeUnknown(
                "provider_unreachable", "PayPal did not answer the token request in time"
            ) from None
        if not 200 <= response.status_code < 300:
            raise _token_failure(response.status_code)
        with reading("token answer"):
            body = response.json()
            value = body["access_token"]
            expires_in = float(body.get("expires_in", 0))
            if not isinstance(value, str) or not value:
                raise ValueError("no access token")
        return TokenAnswer(value=value, expires_in=expires_in)


def _answer(response: httpx.Response, what: str) -> dict[str, Any]:
    status = response.status_code
    if not 200 <= status < 300:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        raise classify(status, body, what=what)
    if not response.content.strip():
        return {}
    try:
        answer: Any = response.json()
    except ValueError:
        raise malformed(f"answer to {what} (not JSON)") from None
    if not isinstance(answer, dict):
        raise malformed(f"answer to {what} (not an object)")
    return answer
