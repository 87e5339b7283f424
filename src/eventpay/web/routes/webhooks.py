"""Provider webhooks: verify the raw bytes, store once, answer at once.

No processing happens here: the worker applies stored events. A duplicate delivery is a 200
no-op; a bad, stale or missing signature, an oversized or non-JSON body is a 400 that stores
nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from eventpay.ports import ProviderName, WebhookRejected
from eventpay.services import webhooks
from eventpay.web.deps import ContainerDep

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise WebhookRejected("payload_too_large", f"webhook bodies are limited to {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookRejected(
                "payload_too_large", f"webhook bodies are limited to {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(
    provider: ProviderName, request: Request, container: ContainerDep
) -> JSONResponse:
    counter = container.metrics.webhooks_received
    verifier = container.verifiers.get(provider)
    if verifier is None:
        counter.labels(provider.value, "not_configured").inc()
        raise WebhookRejected("provider_not_configured", f"{provider.value} is not configured")
    try:
        body = await _read_capped(request, container.settings.webhook_max_body_bytes)
        result = await run_in_threadpool(
            lambda: webhooks.ingest(
                uow_factory=container.uow_factory,
                verifier=verifier,
                body=body,
                headers=request.headers,
                now=container.clock(),
            )
        )
    except WebhookRejected as exc:
        counter.labels(provider.value, exc.code).inc()
        raise
    counter.labels(provider.value, "stored" if result.stored else "duplicate").inc()
    return JSONResponse(
        {"received": True, "event_id": result.event_id, "duplicate": not result.stored}
    )


@router.post("/stripe")
async def stripe_webhook(request: Request, container: ContainerDep) -> JSONResponse:
    return await _receive(ProviderName.STRIPE, request, container)
