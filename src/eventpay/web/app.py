"""`create_app(settings)`: the FastAPI application, wired by the composition root.

The rate limits are built here once per application (`app.state.rate_limits`), never per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from eventpay.bootstrap import Container, build_container, configure_logging
from eventpay.config import Settings
from eventpay.web import errors
from eventpay.web.rate_limits import RateLimits
from eventpay.web.routes import (
    catalog_admin,
    connect,
    events,
    health,
    ledger,
    memberships,
    merchandise,
    orders,
    organizers,
    passes,
    payments,
    payouts,
    promo_codes,
    reconciliation,
    sandbox_controls,
    series,
    sponsorships,
    teams,
    webhooks,
)


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    rate_limits: RateLimits | None = None,
) -> FastAPI:
    if container is None:
        settings = settings or Settings()
        configure_logging(settings)
        container = build_container(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        container.close()

    app = FastAPI(
        title="eventpay",
        version="0.1.0",
        summary="Payments for the Car Audio Events Platform.",
        lifespan=lifespan,
    )
    app.state.container = container
    if rate_limits is None:
        rate_limits = RateLimits.from_settings(container.settings)
    app.state.rate_limits = rate_limits
    errors.install(app)
    routers = (
        events.router,
        catalog_admin.router,
        orders.router,
        payments.router,
        organizers.router,
        connect.router,
        payouts.router,
        promo_codes.router,
        teams.router,
        series.router,
        passes.router,
        merchandise.router,
        memberships.router,
        sponsorships.router,
        ledger.router,
        reconciliation.router,
        webhooks.router,
        health.router,
        sandbox_controls.router,
    )
    for router in routers:
        app.include_router(router)
    return app
