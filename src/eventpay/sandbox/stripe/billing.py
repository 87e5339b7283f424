"""Stripe Billing in the sandbox: the route table and the hook into PaymentIntent events.

What is emulated, for eventpay's memberships and sponsor invoices (API version 2026-10-28, the
one the `stripe` SDK pins):
- Products, Prices (per unit; one-time or recurring day/week/month/year) and Customers
  (`test_clock`, `invoice_settings[default_payment_method]`, credit `balance`): create,
  retrieve, update, list (billing_catalog.py).
- Subscriptions (billing_subscriptions.py, billing_prorations.py, billing_periods.py): create
  with `payment_behavior` default_incomplete or allow_incomplete; the first invoice's
  PaymentIntent is confirmed like any other (3-D Secure, declines); statuses incomplete,
  incomplete_expired, active, past_due, canceled; update (`cancel_at_period_end`, item
  price/quantity with create_prorations, always_invoice or none, `default_payment_method`,
  metadata); `DELETE` cancels now.
- Invoices and invoice items (billing_invoice_api.py, billing_invoices.py): draft, finalize,
  send, pay (card, default payment method or out of band), void; the hosted page
  (billing_hosted.py). The PaymentIntent of an invoice is found through the includable
  `confirmation_secret` (client secret) and `payments` (`expand[]=latest_invoice.payments`,
  `...payments.data.payment.payment_intent`): since API version 2025-03-31 an invoice has no
  `payment_intent` field, so `expand[]=latest_invoice.payment_intent` is refused as at Stripe.
  `payment_settings[save_default_payment_method]=on_subscription` makes the first card the
  subscription's default; renewals charge that, else the customer's default.
- Test clocks (billing_clocks.py): renewals, smart retries (1, 3, 7 days, then the
  subscription is canceled: billing_dunning.py), cancellation at period end, the 23-hour
  incomplete expiry and `invoice.overdue`.
- Controls (billing_control.py): attach a test clock to a customer created without one, and
  make an open invoice overdue now.
- Events: product.*, price.*, customer.*, customer.subscription.created/updated/deleted,
  invoice.created/finalized/sent/updated/paid/payment_succeeded/payment_failed/
  payment_action_required/voided/overdue, invoiceitem.created/deleted, test clock events, and
  the usual payment_intent.* and charge.* of invoice payments; signed and delivered like every
  other sandbox event.

Not emulated: taxes, coupons and discounts, trials, usage-based billing, subscription
schedules, pending updates, `error_if_incomplete`/`pending_if_incomplete`, changing a
subscription's interval, the one-hour delay before renewal invoices are finalized (they are
finalized and charged at the period end), automatic charging of one-off `charge_automatically`
invoices (call `/pay`), `unpaid` as the end of dunning, `invoice.upcoming` reminders,
Customer Portal and Checkout, partial
payment of an invoice (not a Stripe feature; PayPal invoices have it). Objects not on a test
clock follow the wall clock and are never renewed or marked overdue by the sandbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    billing_catalog,
    billing_clocks,
    billing_invoice_api,
    billing_invoices,
    billing_subscriptions,
)
from .billing_control import billing_control_routes
from .billing_hosted import hosted_routes
from .gateway import Call
from .objects import JSON
from .store import Origin, Store

StoreOperation = Callable[[Store, Call], tuple[int, JSON]]
Endpoint = Callable[[Request], Awaitable[Response]]


def attach(store: Store) -> None:
    """Let invoices follow their PaymentIntents (a store observer; call once per store)."""

    def observe(event_type: str, obj: JSON, origin: Origin) -> None:
        billing_invoices.on_event(store, event_type, obj, origin)

    store.observers.append(observe)


def billing_routes(store: Store, api: Callable[[StoreOperation], Endpoint]) -> list[Route]:
    """The `/v1` Billing routes (place them before the catch-all), the hosted invoice page and
    the Billing controls."""
    cat, sub, inv, clk = billing_catalog, billing_subscriptions, billing_invoice_api, billing_clocks
    clocks = "/v1/test_helpers/test_clocks"
    table: list[tuple[str, str, StoreOperation]] = [
        ("/v1/products", "POST", cat.create_product),
        ("/v1/products", "GET", cat.list_products),
        ("/v1/products/{id}", "GET", cat.retrieve_product),
        ("/v1/products/{id}", "POST", cat.update_product),
        ("/v1/prices", "POST", cat.create_price),
        ("/v1/prices", "GET", cat.list_prices),
        ("/v1/prices/{id}", "GET", cat.retrieve_price),
        ("/v1/prices/{id}", "POST", cat.update_price),
        ("/v1/customers", "POST", cat.create_customer),
        ("/v1/customers", "GET", cat.list_customers),
        ("/v1/customers/{id}", "GET", cat.retrieve_customer),
        ("/v1/customers/{id}", "POST", cat.update_customer),
        ("/v1/subscriptions", "POST", sub.create),
        ("/v1/subscriptions", "GET", sub.list_all),
        ("/v1/subscriptions/{id}", "GET", sub.retrieve),
        ("/v1/subscriptions/{id}", "POST", sub.update),
        ("/v1/subscriptions/{id}", "DELETE", sub.cancel),
        ("/v1/invoices", "POST", inv.create),
        ("/v1/invoices", "GET", inv.list_all),
        ("/v1/invoices/{id}", "GET", inv.retrieve),
        ("/v1/invoices/{id}", "POST", inv.update),
        ("/v1/invoices/{id}/finalize", "POST", inv.finalize),
        ("/v1/invoices/{id}/send", "POST", inv.send),
        ("/v1/invoices/{id}/pay", "POST", inv.pay),
        ("/v1/invoices/{id}/void", "POST", inv.void),
        ("/v1/invoices/{id}/lines", "GET", inv.list_lines),
        ("/v1/invoiceitems", "POST", inv.create_item),
        ("/v1/invoiceitems", "GET", inv.list_items),
        ("/v1/invoiceitems/{id}", "GET", inv.retrieve_item),
        ("/v1/invoiceitems/{id}", "DELETE", inv.delete_item),
        (clocks, "POST", clk.create),
        (clocks, "GET", clk.list_all),
        (f"{clocks}/{{id}}", "GET", clk.retrieve),
        (f"{clocks}/{{id}}", "DELETE", clk.delete),
        (f"{clocks}/{{id}}/advance", "POST", clk.advance),
    ]
    routes = [Route(path, api(op), methods=[method]) for path, method, op in table]
    return [*routes, *hosted_routes(store), *billing_control_routes(store)]
