"""Running a money-moving POST under the caller's `Idempotency-Key`.

Claiming the key, running the handler and storing its answer happen in one trip to the thread
pool (each trip costs a context switch and a turn at the GIL among the pool's threads). A route
may pass `refuse_early`: a cheap, read-only check that answers a refusal before the key is
claimed (Stripe stores no result for a request refused before it ran, and a retry is judged
afresh). It must itself fall through when the key already has a stored answer, which a replay
must return instead. Early checks run in a few threads of their own (`EARLY_THREADS`): in a
rush thousands of them arrive at once, and forty runnable threads fighting over the GIL cost
more CPU per check than four taking turns, while the main pool stays free for handlers that
wait on a provider.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import anyio
import anyio.to_thread
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from eventpay.bootstrap import Container
from eventpay.ports import Principal
from eventpay.services import idempotency
from eventpay.services.errors import ServiceError
from eventpay.web.errors import error_body, service_error_response, status_for

Handler = Callable[[], tuple[int, BaseModel]]
EarlyRefusal = Callable[[str | None], ServiceError | None]
"""Given the request's `Idempotency-Key` (or None), a refusal to answer at once, or None."""

_Answer = tuple[int, str, dict[str, str]]

EARLY_THREADS = 4
_early_limiter = anyio.CapacityLimiter(EARLY_THREADS)


def _refusal(exc: ServiceError) -> _Answer:
    response = service_error_response(exc)
    headers = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
    body = json.dumps(error_body(exc.code, exc.message, exc.details))
    return status_for(exc), body, headers


def _run(handler: Handler) -> _Answer:
    try:
        status, model = handler()
        return status, model.model_dump_json(), {}
    except ServiceError as exc:
        return _refusal(exc)


def _respond(
    container: Container,
    principal: str,
    key: str | None,
    fingerprint: str,
    handler: Handler,
) -> _Answer:
    if key is None:
        return _run(handler)
    stored = idempotency.begin(
        uow_factory=container.uow_factory,
        principal=principal,
        key=key,
        request_fingerprint=fingerprint,
        now=container.clock(),
    )
    if stored is not None:
        return stored.status, stored.body, {"Idempotent-Replayed": "true"}
    try:
        answer = _run(handler)
    except BaseException:
        # An unexpected failure: release the key so the client's retry runs (as for a 5xx).
        idempotency.complete(
            uow_factory=container.uow_factory, principal=principal, key=key, status=500, body=""
        )
        raise
    status, text, _ = answer
    idempotency.complete(
        uow_factory=container.uow_factory, principal=principal, key=key, status=status, body=text
    )
    return answer


async def respond_idempotently(
    request: Request,
    container: Container,
    caller: Principal,
    body: bytes,
    handler: Handler,
    *,
    refuse_early: EarlyRefusal | None = None,
) -> Response:
    key = request.headers.get("idempotency-key")
    if refuse_early is not None and (key is None or 1 <= len(key) <= 255):
        # (A malformed key goes the full way, to be refused as such.)
        refusal = await anyio.to_thread.run_sync(refuse_early, key, limiter=_early_limiter)
        if refusal is not None:
            status, text, headers = _refusal(refusal)
            return Response(
                text, status_code=status, media_type="application/json", headers=headers
            )
    fingerprint = (
        "" if key is None else idempotency.fingerprint(request.method, request.url.path, body)
    )
    status, text, headers = await anyio.to_thread.run_sync(
        _respond, container, caller.user_id, key, fingerprint, handler
    )
    return Response(text, status_code=status, media_type="application/json", headers=headers)
