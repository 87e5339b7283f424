"""Running a money-moving POST under the caller's `Idempotency-Key`."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from eventpay.bootstrap import Container
from eventpay.ports import Principal
from eventpay.services import idempotency
from eventpay.services.errors import ServiceError
from eventpay.web.errors import error_body, service_error_response, status_for

Handler = Callable[[], tuple[int, BaseModel]]


def _run(handler: Handler) -> tuple[int, str, dict[str, str]]:
    try:
        status, model = handler()
        return status, model.model_dump_json(), {}
    except ServiceError as exc:
        response = service_error_response(exc)
        headers = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
        body = json.dumps(error_body(exc.code, exc.message, exc.details))
        return status_for(exc), body, headers


async def respond_idempotently(
    request: Request, container: Container, caller: Principal, body: bytes, handler: Handler
) -> Response:
    key = request.headers.get("idempotency-key")
    if key is None:
        status, text, headers = await run_in_threadpool(_run, handler)
        return Response(text, status_code=status, media_type="application/json", headers=headers)
    principal = caller.user_id
    fingerprint = idempotency.fingerprint(request.method, request.url.path, body)

    def begin() -> idempotency.StoredResponse | None:
        return idempotency.begin(
            uow_factory=container.uow_factory,
            principal=principal,
            key=key,
            request_fingerprint=fingerprint,
            now=container.clock(),
        )

    stored = await run_in_threadpool(begin)
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        status, text, headers = await run_in_threadpool(_run, handler)
    except BaseException:
        # An unexpected failure: release the key so the client's retry runs (as for a 5xx).
        await run_in_threadpool(
            lambda: idempotency.complete(
                uow_factory=container.uow_factory, principal=principal, key=key, status=500, body=""
            )
        )
        raise

    def complete() -> None:
        idempotency.complete(
            uow_factory=container.uow_factory,
            principal=principal,
            key=key,
            status=status,
            body=text,
        )

    await run_in_threadpool(complete)
    return Response(text, status_code=status, media_type="application/json", headers=headers)
