"""What every `/v1` request goes through: API key, parameters, faults, idempotency, rendering.

Routes hand the gateway an operation `(Call) -> (status, JSON)`; the gateway decodes the form
parameters, authenticates the key like Stripe (secret `sk_test_...`; publishable `pk_test_...`
only where a route allows it), applies an armed fault, reserves the Idempotency-Key, runs the
operation under the store's lock and renders the result or the StripeError. Business rules live
in the operations, not here.

Where the key comes from, as at Stripe: servers send `Authorization: Bearer` (or Basic, as curl
-u does); Stripe.js sends the publishable key as the `key` parameter of the form body (POST) or
of the query (GET) and no Authorization header. A `key` parameter is taken off the parameters
the operation sees; a secret key there is refused, since it is meant never to reach a browser.
A `Stripe-Account` header reaches the operation as `Call.account` (the operations that act for
connected accounts check it) and scopes the Idempotency-Key to that account, as at Stripe.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from eventpay.sandbox.plumbing.faults import FaultBook

from . import objects
from .errors import ApiError, AuthenticationError, ParameterError, StripeError, for_status
from .forms import Params, decode, fingerprint
from .idempotency import MAX_KEY_LENGTH, IdempotencyLedger, Proceed, Refuse, StoredResponse
from .store import Origin, Store

log = logging.getLogger(__name__)

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details."
)
_PUBLISHABLE = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. You "
    "can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)


@dataclass(frozen=True)
class ApiKey:
    value: str
    publishable: bool


@dataclass(frozen=True)
class Call:
    """One authenticated API request, as an operation sees it."""

    params: Params
    key: ApiKey
    origin: Origin
    base_url: str
    path_params: Mapping[str, str]
    # The `Stripe-Account` header: the connected account the request acts for, if any.
    account: str | None = None

    def path(self, name: str) -> str:
        return self.path_params[name]


Operation = Callable[[Call], tuple[int, dict[str, Any]]]


def _mask(key: str) -> str:
    head, _, _ = key.rpartition("_")
    return f"{head}_{'*' * max(0, len(key) - len(head) - 5)}{key[-4:]}" if head else "****"


_WRONG_KIND_OF_KEY = (
    "A secret API key cannot be sent as the `key` parameter: that parameter is for publishable "
    "keys (as Stripe.js sends them). Send secret keys in the Authorization header, using Bearer "
    "auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details."
)


def _key_parameter(given: object, *, publishable_ok: bool) -> ApiKey:
    """The publishable key Stripe.js sends as the `key` parameter."""
    key = given if isinstance(given, str) else ""
    if key.startswith(("sk_", "rk_")):
        raise AuthenticationError(_WRONG_KIND_OF_KEY, code="api_key_invalid")
    if key.startswith("pk_test_") and len(key) > 8:
        if not publishable_ok:
            raise AuthenticationError(_PUBLISHABLE, code="secret_key_required")
        return ApiKey(key, publishable=True)
    raise AuthenticationError(f"Invalid API Key provided: {_mask(key)}", code="api_key_invalid")


def authenticate(
    request: Request, params: dict[str, Any] | None = None, *, publishable_ok: bool
) -> ApiKey:
    """The caller's key from `Authorization: Bearer` (or Basic, as curl -u sends it), else
    from the `key` parameter, which is removed from `params`."""
    given = params.pop("key", None) if params is not None else None
    header = request.headers.get("authorization", "").strip()
    if not header:
        if given is not None:
            return _key_parameter(given, publishable_ok=publishable_ok)
        raise AuthenticationError(_NO_KEY)
    scheme, _, credential = header.partition(" ")
    key = credential.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if key.startswith(("sk_test_", "rk_test_")) and len(key) > 8:
        return ApiKey(key, publishable=False)
    if key.startswith("pk_test_") and len(key) > 8:
        if not publishable_ok:
            raise AuthenticationError(_PUBLISHABLE, code="secret_key_required")
        return ApiKey(key, publishable=True)
    raise AuthenticationError(f"Invalid API Key provided: {_mask(key)}", code="api_key_invalid")


class Gateway:
    """Runs operations for routes; one per app."""

    def __init__(self, store: Store, faults: FaultBook, ledger: IdempotencyLedger) -> None:
        self.store = store
        self.faults = faults
        self.ledger = ledger

    async def handle(
        self, request: Request, operation: Operation, *, publishable_ok: bool = False
    ) -> Response:
        request_id = objects.new_id("req_", 14)
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": request.headers.get("stripe-version", objects.API_VERSION),
        }
        method = request.method.upper()
        try:
            raw = await request.body() if method == "POST" else request.url.query.encode()
            params = decode(raw)
            key = authenticate(request, params, publishable_ok=publishable_ok)
        except StripeError as exc:
            return _render(exc.status, exc.body(), headers)

        fault = self.faults.take(method, request.url.path)
        if fault is not None and fault.mode == "http_500":
            fault_error = ApiError("An unknown error occurred (fault injected by the sandbox).")
            return _render(fault_error.status, fault_error.body(), headers)
        if fault is not None and fault.mode == "status" and fault.status is not None:
            if fault.body is not None:
                return _render(fault.status, fault.body, headers)
            injected = for_status(fault.status, _mask(key.value))
            return _render(injected.status, injected.body(), headers)

        acting_for = request.headers.get("stripe-account") or None
        # Stripe scopes idempotency keys to the account a request acts for.
        scope = key.value if acting_for is None else f"{key.value}|{acting_for}"
        idem_key = request.headers.get("idempotency-key") if method == "POST" else None
        if idem_key is not None:
            headers["Idempotency-Key"] = idem_key
            if not 0 < len(idem_key) <= MAX_KEY_LENGTH:
                bad_key = ParameterError(
                    f"Invalid idempotency key: it must be between 1 and {MAX_KEY_LENGTH} "
                    "characters long."
                )
                return _render(bad_key.status, bad_key.body(), headers)
            decision = self.ledger.begin(
                scope, idem_key, fingerprint(method, request.url.path, params)
            )
        else:
            decision = Proceed()

        if fault is not None and fault.delay_s > 0:
            # Sleeping after the key is reserved is what lets a concurrent duplicate see 409.
            await asyncio.sleep(fault.delay_s)

        if isinstance(decision, Refuse):
            return _render(decision.error.status, decision.error.body(), headers)
        if not isinstance(decision, Proceed):
            stored = decision.response
            headers["Idempotent-Replayed"] = "true"
            headers["Original-Request"] = stored.request_id
            return Response(stored.body, stored.status, headers, media_type="application/json")

        call = Call(
            params=Params(params),
            key=key,
            origin=Origin(request_id=request_id, idempotency_key=idem_key),
            base_url=str(request.base_url).rstrip("/"),
            path_params={k: str(v) for k, v in request.path_params.items()},
            account=acting_for,
        )
        keep = True
        try:
            with self.store.lock:
                status, body = operation(call)
        except StripeError as exc:
            status, body, keep = exc.status, exc.body(), exc.stored
        except Exception:
            log.exception("sandbox operation failed")
            error = ApiError("An unknown error occurred.")
            status, body, keep = error.status, error.body(), False
        content = _encode(body)
        if idem_key is not None:
            if keep:
                self.ledger.finish(scope, idem_key, StoredResponse(status, content, request_id))
            else:
                self.ledger.release(scope, idem_key)
        return Response(content, status, headers, media_type="application/json")


def _encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, indent=2).encode("utf-8")


def _render(status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> Response:
    return Response(_encode(body), status, dict(headers), media_type="application/json")
