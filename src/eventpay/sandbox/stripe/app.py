"""The composition root: `create_app` wires state, the gateway and every route into one ASGI app.

Route table here, behaviour elsewhere: `/v1/...` operations in payment_intents.py, refunds.py,
search.py and resources.py, Connect and money movement in accounts.py, transfers.py, balance.py
and payouts.py (all run through gateway.py), Billing (products, prices, customers,
subscriptions, invoices, test clocks, the hosted invoice page) in billing.py, the 3-D Secure
page in challenge.py, the onboarding
page in onboarding.py, test controls in control.py (and payouts.py, onboarding.py), the index
page and script in browser.py. Webhook delivery starts and
stops with the app's lifespan, and so do changes Stripe makes later on its own (`store.later`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from eventpay.sandbox.plumbing.faults import FaultBook

from . import accounts, balance, payment_intents, payouts, refunds, resources, transfers
from .billing import attach as attach_billing
from .billing import billing_routes
from .browser import browser_routes
from .challenge import challenge_routes
from .control import control_routes
from .gateway import Call, Gateway
from .idempotency import TTL_S, IdempotencyLedger
from .objects import JSON
from .onboarding import connect_routes
from .reporting import reporting_routes
from .search import search_payment_intents
from .store import Store
from .webhooks import Dispatcher, RetryPolicy

StoreOperation = Callable[[Store, Call], tuple[int, JSON]]
Endpoint = Callable[[Request], Awaitable[Response]]


def refuse_production(environment: str) -> None:
    """The sandbox accepts any test key and fakes money movement: never in production."""
    if environment.strip().lower() in ("production", "prod"):
        raise RuntimeError("The Stripe sandbox refuses to run in the production environment.")


def _check_endpoints(endpoints: Sequence[tuple[str, str]]) -> None:
    for url, secret in endpoints:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook URL must be http(s)://host/...: {url!r}")
        if not secret.startswith("whsec_"):
            raise ValueError("webhook secrets look like whsec_...")


async def _unrecognized(request: Request) -> Response:
    message = (
        f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/."
    )
    return JSONResponse({"error": {"type": "invalid_request_error", "message": message}}, 404)


def _connect_api(api: Callable[[StoreOperation], Endpoint]) -> list[Route]:
    """Connect, transfers, application fees, balance and payouts (see those modules)."""
    table: list[tuple[str, str, StoreOperation]] = [
        ("/v1/accounts", "POST", accounts.create),
        ("/v1/accounts", "GET", accounts.list_all),
        ("/v1/accounts/{id}", "GET", accounts.retrieve),
        ("/v1/account_links", "POST", accounts.create_link),
        ("/v1/transfers", "POST", transfers.create),
        ("/v1/transfers", "GET", transfers.list_all),
        ("/v1/transfers/{id}", "GET", transfers.retrieve),
        ("/v1/transfers/{id}/reversals", "POST", transfers.create_reversal),
        ("/v1/transfers/{id}/reversals", "GET", transfers.list_reversals),
        ("/v1/application_fees", "GET", transfers.list_fees),
        ("/v1/application_fees/{id}", "GET", transfers.retrieve_fee),
        ("/v1/application_fees/{id}/refunds", "POST", transfers.create_fee_refund),
        ("/v1/application_fees/{id}/refunds", "GET", transfers.list_fee_refunds),
        ("/v1/balance", "GET", balance.retrieve_balance),
        ("/v1/balance_transactions", "GET", balance.list_balance_transactions),
        ("/v1/balance_transactions/{id}", "GET", balance.retrieve_balance_transaction),
        ("/v1/payouts", "POST", payouts.create),
        ("/v1/payouts", "GET", payouts.list_all),
        ("/v1/payouts/{id}", "GET", payouts.retrieve),
    ]
    return [Route(path, api(operation), methods=[method]) for path, method, operation in table]


def create_app(
    *,
    webhook_retry: RetryPolicy | None = None,
    endpoints: Sequence[tuple[str, str]] = (),
    environment: str = "development",
    refund_delay_s: float = 1.0,
    idempotency_window_s: float = TTL_S,
) -> Starlette:
    """A fresh sandbox; `endpoints` are `(url, whsec_secret)` pairs subscribed to every event.

    `refund_delay_s` is how long a `pm_card_pendingRefund` refund stays pending and a
    `pm_card_refundFail` refund stays succeeded before it fails. `idempotency_window_s` is how
    long an Idempotency-Key is remembered (Stripe: 24 hours); after it the same key runs anew.
    """
    refuse_production(environment)
    _check_endpoints(endpoints)
    store = Store(endpoints, later_delay_s=refund_delay_s)
    attach_billing(store)
    faults = FaultBook()
    ledger = IdempotencyLedger(idempotency_window_s)
    dispatcher = Dispatcher(store, webhook_retry or RetryPolicy())
    gateway = Gateway(store, faults, ledger)

    def api(operation: StoreOperation, *, publishable_ok: bool = False) -> Endpoint:
        def bound(call: Call) -> tuple[int, JSON]:
            return operation(store, call)

        async def endpoint(request: Request) -> Response:
            return await gateway.handle(request, bound, publishable_ok=publishable_ok)

        return endpoint

    pi = payment_intents
    routes = [
        Route("/v1/payment_intents", api(pi.create), methods=["POST"]),
        Route("/v1/payment_intents", api(pi.list_all), methods=["GET"]),
        # Before `{id}`, which would otherwise take "search" for an id.
        Route("/v1/payment_intents/search", api(search_payment_intents), methods=["GET"]),
        Route("/v1/payment_intents/{id}", api(pi.retrieve, publishable_ok=True), methods=["GET"]),
        Route("/v1/payment_intents/{id}", api(pi.update), methods=["POST"]),
        Route(
            "/v1/payment_intents/{id}/confirm",
            api(pi.confirm, publishable_ok=True),
            methods=["POST"],
        ),
        Route("/v1/payment_intents/{id}/cancel", api(pi.cancel), methods=["POST"]),
        Route("/v1/charges", api(resources.list_charges), methods=["GET"]),
        Route("/v1/charges/{id}", api(resources.retrieve_charge), methods=["GET"]),
        Route("/v1/refunds", api(refunds.create), methods=["POST"]),
        Route("/v1/refunds", api(refunds.list_all), methods=["GET"]),
        Route("/v1/refunds/{id}", api(refunds.retrieve), methods=["GET"]),
        Route("/v1/refunds/{id}", api(refunds.update), methods=["POST"]),
        Route("/v1/refunds/{id}/cancel", api(refunds.cancel), methods=["POST"]),
        Route("/v1/events", api(resources.list_events), methods=["GET"]),
        Route("/v1/events/{id}", api(resources.retrieve_event), methods=["GET"]),
        Route("/v1/webhook_endpoints", api(resources.create_webhook_endpoint), methods=["POST"]),
        Route("/v1/webhook_endpoints", api(resources.list_webhook_endpoints), methods=["GET"]),
        Route(
            "/v1/webhook_endpoints/{id}",
            api(resources.retrieve_webhook_endpoint),
            methods=["GET"],
        ),
        Route(
            "/v1/webhook_endpoints/{id}", api(resources.update_webhook_endpoint), methods=["POST"]
        ),
        Route(
            "/v1/webhook_endpoints/{id}",
            api(resources.delete_webhook_endpoint),
            methods=["DELETE"],
        ),
        *_connect_api(api),
        *reporting_routes(store, api),
        *billing_routes(store, api),
        Route("/v1/{rest:path}", _unrecognized, methods=["GET", "POST", "DELETE"]),
        *challenge_routes(store),
        *connect_routes(store),
        *payouts.payout_control_routes(store),
        *control_routes(store, faults, ledger, dispatcher),
        *browser_routes(),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await dispatcher.start()
        try:
            yield
        finally:
            store.later.cancel_all()
            await dispatcher.stop()

    # Browsers confirm from the service's pages, a different origin, as they do with Stripe.
    cors = Middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Stripe-Version"],
        expose_headers=["Request-Id", "Idempotent-Replayed", "Original-Request"],
    )
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[cors])
    app.state.store = store  # benchmarks/reconcile.py loads a million records in-process
    return app
