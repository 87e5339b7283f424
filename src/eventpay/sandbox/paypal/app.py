"""The composition root: `create_app` wires state, the gateway and every route into one ASGI app.

Route table here, behaviour elsewhere: each PayPal operation lives in the module of its API
(orders, captures, refunds, payouts, disputes, invoices, notifications, reporting) and runs through
gateway.py; the buyer's approval page is checkout.py; test controls are control.py and
scenarios.py. Catalog products, billing plans and subscriptions (with their approval page and
clock controls) are billing_*.py; invoice payments and the payer page billing_invoices.py.
Webhook delivery and delayed work (payout settlement) start and stop with the app's lifespan.
Unknown `/v1` and `/v2` paths answer PayPal's 404.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from eventpay.sandbox.plumbing.faults import FaultBook

from . import (
    billing_catalog,
    billing_invoices,
    billing_subscriptions,
    captures,
    disputes,
    identifiers,
    invoices,
    notifications,
    orders,
    payouts,
    refunds,
    reporting,
)
from .billing_pages import billing_routes
from .billing_records import BILLING, CATALOG
from .checkout import checkout_routes
from .control import control_routes
from .errors import (
    DISPUTES,
    INVOICING,
    NOTIFICATIONS,
    ORDERS,
    PAYMENTS,
    PAYOUTS,
    REPORTING,
    ApiFamily,
    ResourceNotFound,
)
from .gateway import Call, Gateway, Reply
from .idempotency import RequestIdLedger
from .index_page import index_routes
from .oauth import TokenBook, token_route
from .scenarios import scenario_routes
from .signing import Signer
from .store import Store
from .timers import Timers
from .webhooks import Dispatcher, RetryPolicy

StoreOperation = Callable[[Store, Call], Reply]
Endpoint = Callable[[Request], Awaitable[Response]]
_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def refuse_production(environment: str) -> None:
    """The sandbox hands out tokens to anyone and fakes money movement: never in production."""
    if environment.strip().lower() in ("production", "prod"):
        raise RuntimeError("The PayPal sandbox refuses to run in the production environment.")


def _check_webhooks(webhooks: Sequence[tuple[str, str]]) -> None:
    for url, webhook_id in webhooks:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook URL must be http(s)://host/...: {url!r}")
        if not _WEBHOOK_ID.match(webhook_id):
            raise ValueError(f"webhook ids are 1-50 letters, digits, '-' or '_': {webhook_id!r}")


async def _unknown(request: Request) -> Response:
    what = f"{request.method} {request.url.path}"
    description = f"The PayPal sandbox does not emulate {what}."
    error = ResourceNotFound("path", request.url.path, description)
    return JSONResponse(error.body(identifiers.debug_id(), ORDERS), 404)


def create_app(
    *,
    environment: str = "development",
    webhooks: Sequence[tuple[str, str]] = (),
    webhook_retry: RetryPolicy | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    request_id_window_s: float | None = None,
    payout_return_after_s: float | None = None,
) -> Starlette:
    """A fresh sandbox; `webhooks` are `(url, webhook_id)` pairs subscribed to every event.

    `request_id_window_s`: how long a PayPal-Request-Id is remembered, for every API; by
    default PayPal's own windows (6 hours for Orders, 45 days for Payments refunds).
    `payout_return_after_s`: how long a payout item stays UNCLAIMED before PayPal returns the
    money (RETURNED); by default PayPal's 30 days.
    """
    refuse_production(environment)
    _check_webhooks(webhooks)
    store = Store(webhooks)
    tokens = TokenBook(client_id, client_secret)
    faults = FaultBook()
    ledger = RequestIdLedger(window_s=request_id_window_s)
    signer = Signer.generate()
    dispatcher = Dispatcher(store, signer, webhook_retry or RetryPolicy())
    timers = Timers()
    gateway = Gateway(store, tokens, faults, ledger)

    def api(operation: StoreOperation, family: ApiFamily) -> Endpoint:
        def bound(call: Call) -> Reply:
            return operation(store, call)

        async def endpoint(request: Request) -> Response:
            return await gateway.handle(request, bound, family)

        return endpoint

    def route(path: str, operation: StoreOperation, family: ApiFamily, method: str) -> Route:
        return Route(path, api(operation, family), methods=[method])

    payout_timing = payouts.PayoutTiming(timers.call_later, return_after_s=payout_return_after_s)
    create_payout = partial(payouts.create, timing=payout_timing)
    verify = partial(_ignore_store, partial(notifications.verify_signature, signer))
    resend = partial(notifications.resend_event, dispatcher)
    webhooks_path = "/v1/notifications/webhooks"
    events_path = "/v1/notifications/webhooks-events"
    routes = [
        token_route(tokens, faults),
        route("/v2/checkout/orders", orders.create, ORDERS, "POST"),
        route("/v2/checkout/orders/{id}", orders.retrieve, ORDERS, "GET"),
        route("/v2/checkout/orders/{id}/capture", captures.capture_order, ORDERS, "POST"),
        route("/v2/payments/captures/{id}", captures.retrieve, PAYMENTS, "GET"),
        route("/v2/payments/captures/{id}/refund", refunds.refund_capture, PAYMENTS, "POST"),
        route("/v2/payments/refunds/{id}", refunds.retrieve, PAYMENTS, "GET"),
        route("/v1/payments/payouts", create_payout, PAYOUTS, "POST"),
        route("/v1/payments/payouts/{id}", payouts.retrieve_batch, PAYOUTS, "GET"),
        route("/v1/payments/payouts-item/{id}", payouts.retrieve_item, PAYOUTS, "GET"),
        route(reporting.PATH, reporting.search, REPORTING, "GET"),
        route("/v1/customer/disputes", disputes.list_disputes, DISPUTES, "GET"),
        route("/v1/customer/disputes/{id}", disputes.retrieve, DISPUTES, "GET"),
        route(
            "/v1/customer/disputes/{id}/provide-evidence",
            disputes.provide_evidence,
            DISPUTES,
            "POST",
        ),
        route("/v1/customer/disputes/{id}/accept-claim", disputes.accept_claim, DISPUTES, "POST"),
        route("/v2/invoicing/invoices", invoices.create, INVOICING, "POST"),
        route("/v2/invoicing/invoices/{id}", invoices.retrieve, INVOICING, "GET"),
        route("/v2/invoicing/invoices/{id}/send", invoices.send, INVOICING, "POST"),
        route("/v2/invoicing/invoices/{id}/cancel", invoices.cancel, INVOICING, "POST"),
        route("/v2/invoicing/invoices", billing_invoices.list_invoices, INVOICING, "GET"),
        route(
            "/v2/invoicing/invoices/{id}/payments",
            billing_invoices.record_payment,
            INVOICING,
            "POST",
        ),
        route("/v2/invoicing/search-invoices", billing_invoices.search_invoices, INVOICING, "POST"),
        *_billing_api(route),
        notifications.cert_route(signer),
        route("/v1/notifications/verify-webhook-signature", verify, NOTIFICATIONS, "POST"),
        route(webhooks_path, notifications.create_webhook, NOTIFICATIONS, "POST"),
        route(webhooks_path, notifications.list_webhooks, NOTIFICATIONS, "GET"),
        route(f"{webhooks_path}/{{id}}", notifications.retrieve_webhook, NOTIFICATIONS, "GET"),
        route(f"{webhooks_path}/{{id}}", notifications.delete_webhook, NOTIFICATIONS, "DELETE"),
        route(events_path, notifications.list_events, NOTIFICATIONS, "GET"),
        route(f"{events_path}/{{id}}", notifications.retrieve_event, NOTIFICATIONS, "GET"),
        route(f"{events_path}/{{id}}/resend", resend, NOTIFICATIONS, "POST"),
        Route("/v1/{rest:path}", _unknown, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        Route("/v2/{rest:path}", _unknown, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        *checkout_routes(store),
        *billing_routes(store),
        *billing_invoices.invoice_payer_routes(store),
        *scenario_routes(store, payout_timing),
        *control_routes(store, faults, ledger, dispatcher, tokens, timers, payout_timing),
        *index_routes(),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await dispatcher.start()
        await timers.start()
        try:
            yield
        finally:
            await timers.stop()
            await dispatcher.stop()

    return Starlette(routes=routes, lifespan=lifespan)


def _billing_api(route: Callable[[str, StoreOperation, ApiFamily, str], Route]) -> list[Route]:
    """Catalog Products, Billing Plans and Subscriptions (billing_*.py)."""
    plans, subs = "/v1/billing/plans", "/v1/billing/subscriptions"
    return [
        route("/v1/catalogs/products", billing_catalog.create_product, CATALOG, "POST"),
        route("/v1/catalogs/products", billing_catalog.list_products, CATALOG, "GET"),
        route("/v1/catalogs/products/{id}", billing_catalog.retrieve_product, CATALOG, "GET"),
        route(plans, billing_catalog.create_plan, BILLING, "POST"),
        route(plans, billing_catalog.list_plans, BILLING, "GET"),
        route(f"{plans}/{{id}}", billing_catalog.retrieve_plan, BILLING, "GET"),
        route(f"{plans}/{{id}}/activate", billing_catalog.activate_plan, BILLING, "POST"),
        route(f"{plans}/{{id}}/deactivate", billing_catalog.deactivate_plan, BILLING, "POST"),
        route(subs, billing_subscriptions.create, BILLING, "POST"),
        route(f"{subs}/{{id}}", billing_subscriptions.retrieve, BILLING, "GET"),
        *[
            route(f"{subs}/{{id}}/{name}", getattr(billing_subscriptions, name), BILLING, "POST")
            for name in ("cancel", "suspend", "activate", "revise", "capture")
        ],
        route(f"{subs}/{{id}}/transactions", billing_subscriptions.transactions, BILLING, "GET"),
        route("/v1/payments/sale/{id}", billing_subscriptions.retrieve_sale, BILLING, "GET"),
    ]


def _ignore_store(operation: Callable[[Call], Reply], store: Store, call: Call) -> Reply:
    return operation(call)
