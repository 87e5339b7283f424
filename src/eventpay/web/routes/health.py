"""Liveness, readiness, metrics and the public payment configuration.

`/healthz`, `/readyz` and `/metrics` are never rate limited: probes and scrapers must always
get through. `/v1/payment-config` is a public route like the catalog.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from eventpay.web.deps import ContainerDep
from eventpay.web.rate_limits import PUBLIC_BUDGET, RATE_LIMITED_RESPONSE
from eventpay.web.schemas import PaymentConfigOut, PayPalConfigOut, StripeConfigOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(container: ContainerDep) -> JSONResponse:
    database = await run_in_threadpool(container.database_ready)
    stripe = await run_in_threadpool(container.stripe_ready)
    paypal = await run_in_threadpool(container.paypal_ready)
    ready = database and stripe and paypal is not False
    checks: dict[str, bool] = {"database": database, "stripe": stripe}
    if paypal is not None:
        checks["paypal"] = paypal
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
        headers=None if ready else {"Retry-After": "5"},
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
