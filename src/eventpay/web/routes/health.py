"""Liveness, readiness, metrics and the public payment configuration.

`/healthz`, `/readyz` and `/metrics` are never rate limited: probes and scrapers must always
get through. Readiness is the database's alone (see `readyz`). `/v1/payment-config` is a
public route like the catalog.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from eventpay.providers.probes import ProviderStatus
from eventpay.web.deps import ContainerDep
from eventpay.web.rate_limits import PUBLIC_BUDGET, RATE_LIMITED_RESPONSE
from eventpay.web.schemas import PaymentConfigOut, PayPalConfigOut, StripeConfigOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(container: ContainerDep) -> JSONResponse:
    """Ready when the database answers; providers are reported beside it, never decisive.

    A provider blip must not take the API out of the load balancer: webhooks, pages and
    everything already paid keep working, and provider calls fail (and retry) on their own.
    `status` is `ready`, `degraded` (a provider is not ok) or `not_ready` (503, no database).
    `checks` keeps its old shape, one boolean per dependency; `providers` says why not.
    """
    names = container.probed_providers()
    # All at once: the answer takes as long as the slowest probe, each bounded by its timeout.
    database, statuses = await asyncio.gather(
        run_in_threadpool(container.database_ready),
        asyncio.gather(*(run_in_threadpool(container.provider_status, name) for name in names)),
    )
    providers = dict(zip((name.value for name in names), statuses, strict=True))
    checks: dict[str, bool] = {"database": database}
    checks |= {name: status is ProviderStatus.OK for name, status in providers.items()}
    if not database:
        overall = "not_ready"
    elif all(status is ProviderStatus.OK for status in providers.values()):
        overall = "ready"
    else:
        overall = "degraded"
    return JSONResponse(
        {"status": overall, "checks": checks, "providers": providers},
        status_code=200 if database else 503,
        headers=None if database else {"Retry-After": "5"},
    )


@router.get("/metrics")
async def metrics(container: ContainerDep) -> Response:
    return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/v1/payment-config",
    response_model=PaymentConfigOut,
    dependencies=[PUBLIC_BUDGET],
    responses=RATE_LIMITED_RESPONSE,
)
async def payment_config(container: ContainerDep) -> PaymentConfigOut:
    settings = container.settings
    paypal = (
        PayPalConfigOut(
            client_id=settings.paypal_client_id,
            api_base=settings.paypal_api_base if settings.paypal_uses_sandbox else None,
        )
        if settings.paypal_enabled
        else None
    )
    return PaymentConfigOut(
        stripe=StripeConfigOut(
            publishable_key=settings.stripe_publishable_key,
            api_base=settings.stripe_api_base if settings.uses_sandbox else None,
        ),
        paypal=paypal,
    )
