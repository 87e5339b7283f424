"""The authenticated PayPal REST client shared by the PayPal adapter's modules.

One `PayPalApi` per process: it adds the bearer token (from `PayPalTokenCache`), the
`PayPal-Request-Id` of every mutating call, and translates PayPal's answers into our errors:

    ProviderError
    ├── ProviderOutcomeUnknown   timeout, connection error, 5xx, 429, 409, unreadable 2xx body:
    │                            the call may have taken effect; ask again with the same key
    └── ProviderRejected
        ├── PayPalRejected       a definite 4xx refusal; `code` is PayPal's `details[0].issue`
        │   │                    (else its `name`), `body` keeps the error for callers that
        │   │                    must look closer
        │   └── DuplicatePayoutBatch   `duplicate_batch` (paypal_payouts)
        └── UnsupportedAmount    `unsupported_amount`: refused before any call (paypal_money)

Token requests fail the same way (paypal_auth); wrong credentials are `authentication_failed`.

A 401 means PayPal stopped accepting the token: it is renewed once and the call sent once
more with the same request id (PayPal did nothing with the refused call). Redirects are never
followed. Nothing here logs; messages carry PayPal's description and debug id, never a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from eventpay.ports import ProviderOutcomeUnknown, ProviderRejected
from eventpay.providers.paypal_auth import PayPalTokenCache

__all__ = ["PayPalApi", "PayPalRejected", "reading", "rejection_from"]

_MESSAGE_LIMIT = 300
# Multipart parts: (filename, content, content type); PayPal reads the `input` part as JSON.
Part = tuple[str | None, bytes, str]


class PayPalRejected(ProviderRejected):
    """PayPal refused the call (4xx): nothing happened there."""

    def __init__(self, code: str, message: str, *, status_code: int, body: Mapping[str, Any]):
        super().__init__(code, message)
        self.status_code = status_code
        self.body = body


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def rejection_from(status_code: int, body: Any) -> PayPalRejected:
    """Our error for a PayPal 4xx body (`{name, message, details: [{issue, description}]}`)."""
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


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Report an answer we cannot read as `ProviderOutcomeUnknown`: the call did happen."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise ProviderOutcomeUnknown(
            "malformed_response", f"PayPal's {what} could not be read"
        ) from None


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
        self.tokens = PayPalTokenCache(
            client_id=client_id,
            client_secret=client_secret,
            api_base=self.api_base,
            http=self._http,
            timeout_s=timeout_s,
            clock=clock,
        )

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
        token = self.tokens.get()
        send = {"json": json, "content": content, "files": files, "params": params}
        response = self._send(method, path, headers, token, **send)
        if response.status_code == 401:
            self.tokens.invalidate(token)
            token = self.tokens.get()
            response = self._send(method, path, headers, token, **send)
            if response.status_code == 401:
                raise PayPalRejected(
                    "authentication_failed",
                    "PayPal refused a freshly issued access token",
                    status_code=401,
                    body={},
                )
        return _answer(response)

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


def _answer(response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    if status >= 500 or status in (409, 429):
        raise ProviderOutcomeUnknown("provider_error", f"PayPal answered {status}")
    if 400 <= status < 500:
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        raise rejection_from(status, body)
    if not 200 <= status < 300:
        raise ProviderOutcomeUnknown("provider_error", f"PayPal answered {status}")
    if not response.content.strip():
        return {}
    try:
        answer: Any = response.json()
    except ValueError:
        raise ProviderOutcomeUnknown("malformed_response", "PayPal's answer is not JSON") from None
    if not isinstance(answer, dict):
        raise ProviderOutcomeUnknown("malformed_response", "PayPal's answer is not an object")
    return answer
