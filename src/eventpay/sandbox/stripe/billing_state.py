"""The Billing part of the sandbox's state: products, prices, customers, subscriptions, invoices.

Held by the store (`store.state.billing`) so a reset forgets it with everything else. Objects are
kept as the JSON Stripe returns; the few facts Stripe keeps but does not show (which invoice a
PaymentIntent pays, when dunning started, which overdue notices went out) sit beside them. No
behaviour here and no import of the store: billing*.py modules act on it with the store's lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .objects import JSON


@dataclass
class BillingState:
    products: dict[str, JSON] = field(default_factory=dict)
    prices: dict[str, JSON] = field(default_factory=dict)
    customers: dict[str, JSON] = field(default_factory=dict)
    subscriptions: dict[str, JSON] = field(default_factory=dict)
    invoices: dict[str, JSON] = field(default_factory=dict)
    invoice_items: dict[str, JSON] = field(default_factory=dict)
    test_clocks: dict[str, JSON] = field(default_factory=dict)
    # InvoicePayments of each invoice (shown only when `payments` is expanded).
    invoice_payments: dict[str, list[JSON]] = field(default_factory=dict)
    # The invoice each invoice PaymentIntent pays.
    invoice_of_intent: dict[str, str] = field(default_factory=dict)
    # When an automatically collected invoice first failed: smart retries count from there.
    first_failure: dict[str, int] = field(default_factory=dict)
    # Invoices whose `invoice.overdue` has been sent (once per invoice, as Stripe does).
    overdue_sent: set[str] = field(default_factory=set)
    # Subscriptions created, for the 23-hour incomplete expiry (subscription id -> deadline).
    incomplete_deadline: dict[str, int] = field(default_factory=dict)
