"""OAuth 2.0 client credentials, as PayPal does them: `/v1/oauth2/token` and bearer tokens.

`POST /v1/oauth2/token` with HTTP Basic `client_id:secret` and the form
`grant_type=client_credentials` answers `{"scope", "access_token", "token_type": "Bearer",
"app_id", "expires_in": 32400, "nonce"}`. When the app was created with a client id and secret
only that pair gets tokens; otherwise any non-empty pair does (each client id is its own
merchant scope for idempotency). `expire_all` backs `/_sandbox/tokens/expire`, so adapters can
be tested refreshing once on a 401. Token bookkeeping only; the gateway enforces it on routes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from eventpay.sandbox.plumbing.faults import FaultBook

from . import identifiers
from .errors import ApiFamily, InternalServerError, InvalidToken

EXPIRES_IN_S = 32400
APP_ID = "APP-80W284485P519543T"
OAUTH = ApiFamily("authentication/v1")
SCOPES = " ".join(
    (
        "https://uri.paypal.com/services/invoicing",
        "https://uri.paypal.com/services/disputes/read-seller",
        "https://uri.paypal.com/services/disputes/update-seller",
        "https://uri.paypal.com/services/payments/payment/authcapture",
        "https://uri.paypal.com/services/payments/refund",
        "https://uri.paypal.com/payments/payouts",
        "https://uri.paypal.com/services/applications/webhooks",
        "https://uri.paypal.com/services/reporting/search/read",
        "openid",
    )
)


@dataclass(frozen=True)
class Token:
    value: str
    client_id: str
    expires_at: float


class TokenBook:
    """Issued access tokens; thread-safe."""

    def __init__(self, client_id: str | None = None, client_secret: str | None = None) -> None:
        if (client_id is None) != (client_secret is None):
            raise ValueError("give both client_id and client_secret, or neither")
        self._client = (client_id, client_secret) if client_id and client_secret else None
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}

    def accepts(self, client_id: str, secret: str) -> bool:
        if not client_id or not secret:
            return False
        if self._client is None:
            return True
        want_id, want_secret = self._client
        same_id = hmac.compare_digest(client_id.encode(), str(want_id).encode())
        return same_id and hmac.compare_digest(secret.encode(), str(want_secret).encode())

    def issue(self, client_id: str) -> Token:
        token = Token(identifiers.access_token(), client_id, time.time() + EXPIRES_IN_S)
        with self._lock:
            self._tokens[token.value] = token
        return token

    def check(self, authorization: str) -> str:
        """The client id behind `Authorization: Bearer <token>`, or InvalidToken."""
        scheme, _, value = authorization.strip().partition(" ")
        with self._lock:
            token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise InvalidToken("Token signature verification failed")
        if token.expires_at <= time.time():
            raise InvalidToken("Access Token not found in cache")
        return token.client_id

    def expire_all(self) -> int:
        with self._lock:
            live = [t for t in self._tokens.values() if t.expires_at > time.time()]
            for token in live:
                self._tokens[token.value] = Token(token.value, token.client_id, 0.0)
            return len(live)


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status)


def token_route(book: TokenBook, faults: FaultBook) -> Route:
    """`POST /v1/oauth2/token`, bound to the app's token book and faults."""

    async def token(request: Request) -> Response:
        fault = faults.take("POST", request.url.path)
        if fault is not None and fault.mode == "http_500":
            return JSONResponse(InternalServerError().body(identifiers.debug_id(), OAUTH), 500)
        if fault is not None and fault.mode == "status" and fault.status is not None:
            if fault.body is not None:
                return JSONResponse(fault.body, fault.status)
            return _oauth_error(fault.status, "invalid_client", "Client Authentication failed")
        if fault is not None:
            await asyncio.sleep(fault.delay_s)
        client_id, secret = _basic_credentials(request.headers.get("authorization", ""))
        if not book.accepts(client_id, secret):
            return _oauth_error(401, "invalid_client", "Client Authentication failed")
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        grant = form.get("grant_type", [""])[0]
        if not grant:
            return _oauth_error(400, "invalid_request", "grant_type is null")
        if grant != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "unsupported grant_type")
        issued = book.issue(client_id)
        return JSONResponse(
            {
                "scope": SCOPES,
                "access_token": issued.value,
                "token_type": "Bearer",
                "app_id": APP_ID,
                "expires_in": EXPIRES_IN_S,
                "nonce": f"{identifiers.timestamp()}{identifiers.debug_id()}",
            }
        )

    return Route("/v1/oauth2/token", token, methods=["POST"])
