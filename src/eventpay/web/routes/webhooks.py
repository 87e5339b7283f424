"""Provider webhooks: verify the raw bytes, store once, answer at once.

No processing happens here: the worker applies stored events. A duplicate delivery is a 200
no-op; a bad, stale or missing signature, an oversized body, or one that cannot be parsed and
stored safely (not UTF-8, nested too deep, text no database holds: `providers.webhook_body`)
is a 400 that stores nothing. A 200 is sent only after the event is committed: concurrent
deliveries share one transaction (`WebhookBatcher`, group commit), which is what lets ingest
keep up with a burst.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from eventpay.bootstrap import Container
from eventpay.ports import ProviderName, WebhookEventRecord, WebhookRejected, WebhookVerifier
from eventpay.services import webhooks
from eventpay.web.deps import container_of
from eventpay.web.webhook_batcher import WebhookBatcher, batcher_for

# Stripe's check is an HMAC and a JSON parse: for a typical event, microseconds, less than a
# hop to the thread pool, so it runs on the event loop; only bodies near the 1 MiB limit would
# stall it. Other verifiers may fetch a certificate or call the provider (PayPal's do), which
# must never block the loop: they always run in the thread pool.
_VERIFIED_ON_LOOP = frozenset({ProviderName.STRIPE})
_VERIFY_ON_LOOP_BYTES = 64 * 1024

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


def _verify(
    verifier: WebhookVerifier, body: bytes, request: Request, container: Container
) -> WebhookEventRecord:
    return webhooks.verify_event(
        verifier=verifier, body=body, headers=request.headers, now=container.clock()
    )


def _batcher(request: Request, container: Container) -> WebhookBatcher:
    uow_factory = container.uow_factory
    return batcher_for(
        request.app.state,
        lambda: WebhookBatcher(
            lambda events: webhooks.store_events(uow_factory=uow_factory, events=events)
        ),
    )


async def _receive(provider: ProviderName, request: Request) -> JSONResponse:
    container = container_of(request)
    counter = container.metrics.webhooks_received
    verifier = container.verifiers.get(provider)
    if verifier is None:
        counter.labels(provider.value, "not_configured").inc()
        raise WebhookRejected("provider_not_configured", f"{provider.value} is not configured")
    try:
        body = await _read_capped(request, container.settings.webhook_max_body_bytes)
        if provider in _VERIFIED_ON_LOOP and len(body) <= _VERIFY_ON_LOOP_BYTES:
            event = _verify(verifier, body, request, container)
        else:
            event = await run_in_threadpool(_verify, verifier, body, request, container)
    except WebhookRejected as exc:
        counter.labels(provider.value, exc.code).inc()
        raise
    stored = await _batcher(request, container).submit(event)
    counter.labels(provider.value, "stored" if stored else "duplicate").inc()
    return JSONResponse({"received": True, "event_id": event.event_id, "duplicate": not stored})


# No `ContainerDep` here: FastAPI runs a plain-function dependency in the thread pool, a
# round trip that cost this hot route more than the work it does itself.
@router.post("/stripe")
async def stripe_webhook(request: Request) -> JSONResponse:
    return await _receive(ProviderName.STRIPE, request)


@router.post("/paypal")
async def paypal_webhook(request: Request) -> JSONResponse:
    return await _receive(ProviderName.PAYPAL, request)
