"""What an invoice payment or failure does to its subscription: activation, past due, retries.

The sandbox's dunning settings, fixed (Stripe makes them account settings): a failed automatic
renewal charge is retried 1, 3 and 7 days after the first failure ("smart retries" reduced to a
fixed schedule); when the last retry fails the subscription is canceled
(`cancellation_details.reason = "payment_failed"`, `customer.subscription.deleted`) and the
invoice stays open with no further attempt. Not emulated: `unpaid` as the final state, retry
emails. A first invoice (`subscription_create`) is never retried: the subscription stays
`incomplete` until the customer pays or 23 hours pass (`incomplete_expired`, clock-bound only).
"""

from __future__ import annotations

import copy

from .billing_common import DAY_S, customer, now_for, state, subscription
from .objects import JSON
from .store import Origin, Store

RETRY_DAYS = (1, 3, 7)
# Invoices of an existing subscription, collected automatically and retried on failure.
RETRIED_REASONS = ("subscription_cycle", "subscription_update")


def _set_status(store: Store, sub: JSON, status: str, origin: Origin) -> None:
    if sub["status"] == status:
        return
    previous = {"status": sub["status"]}
    sub["status"] = status
    store.emit("customer.subscription.updated", sub, origin, previous=previous)


def _subscription_of(store: Store, inv: JSON) -> JSON | None:
    parent = inv["parent"]
    if parent is None or parent["subscription_details"] is None:
        return None
    sub_id = parent["subscription_details"]["subscription"]
    return subscription(store, sub_id) if sub_id in state(store).subscriptions else None


def after_payment(store: Store, inv: JSON, pm_id: str | None, origin: Origin) -> None:
    """The invoice is paid: save the card if asked, make the subscription active again."""
    state(store).first_failure.pop(inv["id"], None)
    sub = _subscription_of(store, inv)
    if sub is None:
        return
    state(store).incomplete_deadline.pop(sub["id"], None)
    saving = sub["payment_settings"]["save_default_payment_method"] == "on_subscription"
    if pm_id is not None and saving and sub["default_payment_method"] is None:
        sub["default_payment_method"] = pm_id
    if sub["status"] in ("incomplete", "past_due", "unpaid"):
        _set_status(store, sub, "active", origin)
    cus = customer(store, sub["customer"])
    cus["delinquent"] = False


def after_failure(store: Store, inv: JSON, origin: Origin) -> None:
    """A failed attempt: schedule the next retry, or give up and cancel the subscription."""
    sub = _subscription_of(store, inv)
    automatic = inv["collection_method"] == "charge_automatically"
    if sub is None or not automatic or inv["billing_reason"] not in RETRIED_REASONS:
        inv["next_payment_attempt"] = None
        return
    customer(store, inv["customer"])["delinquent"] = True
    at = now_for(store, inv["customer"])
    first = state(store).first_failure.setdefault(inv["id"], at)
    attempts = int(inv["attempt_count"])
    if attempts <= len(RETRY_DAYS):
        inv["next_payment_attempt"] = first + RETRY_DAYS[attempts - 1] * DAY_S
        if sub["status"] == "active":
            _set_status(store, sub, "past_due", origin)
        return
    inv["next_payment_attempt"] = None
    if sub["status"] not in ("canceled", "incomplete_expired"):
        cancel(store, sub, at, origin, reason="payment_failed")


def cancel(store: Store, sub: JSON, at: int, origin: Origin, *, reason: str) -> None:
    """End the subscription now (Stripe's `customer.subscription.deleted`)."""
    sub.update(status="canceled", ended_at=at, cancel_at_period_end=False, cancel_at=None)
    if sub["canceled_at"] is None:
        sub["canceled_at"] = at
    details = copy.deepcopy(sub["cancellation_details"])
    details["reason"] = details["reason"] or reason
    sub["cancellation_details"] = details
    state(store).incomplete_deadline.pop(sub["id"], None)
    store.emit("customer.subscription.deleted", sub, origin)
