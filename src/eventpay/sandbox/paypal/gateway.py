"""What every PayPal API request goes through: token, faults, body, PayPal-Request-Id, rendering.

Routes hand the gateway an operation `(Call) -> Reply`; the gateway checks the bearer token,
applies an armed fault (PayPal's 500, a delay, or any status: PayPal's own error for it, or
exactly the JSON armed with it, which is how a test gets a malformed 2xx), decodes the body
(JSON, or multipart/form-data with an `input` JSON part and file parts, as the Disputes API
takes it), reserves the PayPal-Request-Id of a POST, runs the operation under the store's lock
and renders the reply or the PayPalError in the route's API dialect with a `PayPal-Debug-Id`
header. Business rules live in the operations.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from eventpay.sandbox.plumbing.faults import FaultBook

from . import identifiers
from .errors import (
    ApiFamily,
    AuthenticationFailure,
    InternalServerError,
    InvalidRequest,
    Issue,
    PayPalError,
    error_for_status,
    invalid,
)
from .idempotency import MAX_ID_LENGTH, Proceed, Replay, RequestIdLedger, Scope, StoredResponse
from .oauth import TokenBook
from .store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (only its description is kept)."""

    field: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Call:
    """One authenticated API request, as an operation sees it."""

    body: Any
    base_url: str
    client_id: str
    path_params: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    uploads: tuple[Upload, ...] = ()

    def path(self, name: str) -> str:
        return self.path_params[name]

    @property
    def representation(self) -> bool:
        """`Prefer: return=representation` (PayPal's default is `return=minimal`)."""
        return "return=representation" in self.headers.get("prefer", "").replace(" ", "")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # None: no content


Operation = Callable[[Call], Reply]


class Gateway:
    """Runs operations for routes; one per app."""

    def __init__(
        self, store: Store, tokens: TokenBook, faults: FaultBook, ledger: RequestIdLedger
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.faults = faults
        self.ledger = ledger

    async def handle(self, request: Request, operation: Operation, family: ApiFamily) -> Response:
        debug_id = identifiers.debug_id()
        headers = {"PayPal-Debug-Id": debug_id}
        method = request.method.upper()
        try:
            authorization = request.headers.get("authorization")
            if not authorization:
                raise AuthenticationFailure()
            client_id = self.tokens.check(authorization)
            fault = self.faults.take(method, request.url.path)
            if fault is not None and fault.mode == "http_500":
                raise InternalServerError()
            if fault is not None and fault.mode == "status" and fault.status is not None:
                if fault.body is not None:
                    return _render(fault.status, fault.body, headers)
                raise error_for_status(fault.status)
            body, uploads = await _decode(request) if method == "POST" else ({}, ())
            request_id = request.headers.get("paypal-request-id") if method == "POST" else None
            if request_id is not None and not 0 < len(request_id) <= MAX_ID_LENGTH:
                raise invalid("PayPal-Request-Id", request_id, "INVALID_STRING_LENGTH")
        except PayPalError as exc:
            return _render(exc.status, exc.body(debug_id, family), headers)

        scope: Scope | None = None
        if request_id is not None:
            scope = (client_id, method, request.url.path, request_id)
            decision = self.ledger.begin(scope, _fingerprint(body, uploads))
            while not isinstance(decision, Proceed | Replay):
                await decision.done.wait()
                decision = self.ledger.begin(scope, _fingerprint(body, uploads))
            if isinstance(decision, Replay):
                stored = decision.response
                extra = {"Sandbox-Replayed": "true"}
                if decision.mismatch:
                    log.warning("PayPal-Request-Id %r replayed for a different body", request_id)
                    extra["Sandbox-Request-Mismatch"] = "true"
                return _raw(stored.status, stored.body, {**stored.headers, **extra})

        if fault is not None and fault.delay_s > 0:
            # After the id is reserved, so a concurrent duplicate waits for this request.
            await asyncio.sleep(fault.delay_s)

        call = Call(
            body=body,
            base_url=str(request.base_url).rstrip("/"),
            client_id=client_id,
            path_params={k: str(v) for k, v in request.path_params.items()},
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            uploads=uploads,
        )
        try:
            with self.store.lock:
                reply = operation(call)
            status, content = reply.status, _encode(reply.body)
        except PayPalError as exc:
            status, content = exc.status, _encode(exc.body(debug_id, family))
        except Exception:
            log.exception("PayPal sandbox operation failed")
            status, content = 500, _encode(InternalServerError().body(debug_id, family))
        if scope is not None:
            if 200 <= status < 300:
                self.ledger.finish(scope, StoredResponse(status, content, dict(headers)))
            else:
                self.ledger.release(scope)
        return _raw(status, content, headers)


async def _decode(request: Request) -> tuple[Any, tuple[Upload, ...]]:
    """The JSON body; for multipart, the `input` part's JSON plus the file parts."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _decode_multipart(request)
    raw = await request.body()
    return (_parse_json(raw) if raw.strip() else {}), ()


async def _decode_multipart(request: Request) -> tuple[Any, tuple[Upload, ...]]:
    body: Any = {}
    uploads: list[Upload] = []
    async with request.form() as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if name == "input":
                    body = _parse_json(data)
                    continue
                uploads.append(
                    Upload(name, value.filename or "", value.content_type or "", len(data))
                )
            elif name == "input":
                body = _parse_json(value.encode("utf-8"))
    return body, tuple(uploads)


def _parse_json(raw: bytes) -> Any:
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(Issue("MALFORMED_REQUEST_JSON", location="body")) from exc
    if not isinstance(parsed, dict):
        raise InvalidRequest(Issue("MALFORMED_REQUEST_JSON", location="body"))
    return parsed


def _fingerprint(body: Any, uploads: tuple[Upload, ...]) -> str:
    canonical = json.dumps([body, [list(vars(u).values()) for u in uploads]], sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def _raw(status: int, content: bytes, headers: Mapping[str, str]) -> Response:
    if status == 204 or not content:
        return Response(status_code=status, headers=dict(headers))
    return Response(content, status, dict(headers), media_type="application/json")


def _render(status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> Response:
    return _raw(status, _encode(body), headers)
