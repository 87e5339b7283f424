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
    connect,
    events,
    health,
    ledger,
    orders,
    organizers,
    payments,
    payouts,
    reconciliation,
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
        orders.router,
        payments.router,
        organizers.router,
        connect.router,
        payouts.router,
        ledger.router,
        reconciliation.router,
        webhooks.router,
        health.router,
    )
    for router in routers:
        app.include_router(router)
    return app
