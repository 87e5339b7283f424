"""Invoicing a subscription's periods: the invoice for a period, renewal, incomplete expiry.

`invoice_for` makes and finalizes a subscription's invoice (its items' lines for a period, plus
the subscription's pending invoice items such as prorations). At a period's end the
subscription is canceled if `cancel_at_period_end` is set, else its items move to the next
period (anchored on `billing_cycle_anchor`) and the renewal invoice is charged to the default
payment method (billing_dunning.py takes over on failure). An unpaid first invoice expires the
subscription after 23 hours (`incomplete_expired`, sent as `customer.subscription.updated`).
billing_clocks.py decides when these run.
"""

from __future__ import annotations

import copy

from . import billing_dunning, billing_invoice_objects, billing_invoices
from .billing_common import customer, now_for, period_end, state
from .objects import JSON, new_id
from .store import Origin, Store

INCOMPLETE_EXPIRY_S = 23 * 60 * 60
ENDED = ("canceled", "incomplete_expired")


def item_line(sub: JSON, item: JSON, *, period: tuple[int, int]) -> JSON:
    unit = int(item["price"]["unit_amount"])
    quantity = int(item["quantity"])
    product_name = item["price"]["nickname"] or item["price"]["product"]
    return billing_invoice_objects.line_item(
        il_id=new_id("il_"),
        invoice_id=None,
        amount=unit * quantity,
        currency=str(sub["currency"]),
        description=f"{quantity} x {product_name}",
        period=period,
        quantity=quantity,
        unit_amount=unit,
        metadata={},
        sub_id=sub["id"],
        si_id=item["id"],
        ii_id=None,
        proration=False,
    )


def interval_of(price_obj: JSON) -> tuple[str, int]:
    recurring = price_obj["recurring"]
    return str(recurring["interval"]), int(recurring["interval_count"])


def invoice_for(
    store: Store, sub: JSON, reason: str, period: tuple[int, int], origin: Origin, base_url: str
) -> JSON:
    """A finalized invoice for the subscription's items (none for an update's prorations)."""
    cus = customer(store, sub["customer"])
    inv = billing_invoices.new_invoice(
        store,
        cus=cus,
        collection_method=str(sub["collection_method"]),
        billing_reason=reason,
        sub=sub,
        period=period,
        days_until_due=sub["days_until_due"],
        due_date=None,
        description=None,
        metadata={},
        currency=str(sub["currency"]),
        origin=origin,
    )
    if reason != "subscription_update":
        for item in sub["items"]["data"]:
            start, end = int(item["current_period_start"]), int(item["current_period_end"])
            billing_invoices.add_line(inv, item_line(sub, item, period=(start, end)))
    billing_invoices.pull_pending_items(store, inv, sub_id=sub["id"])
    billing_invoices.finalize(store, inv, origin, base_url=base_url)
    sub["latest_invoice"] = inv["id"]
    return inv


def due_at(sub: JSON) -> int | None:
    """When the subscription next needs attention: its period end, or its incomplete expiry."""
    if sub["status"] in ENDED:
        return None
    if sub["status"] == "incomplete":
        return None
    return min(int(item["current_period_end"]) for item in sub["items"]["data"])


def period_ends(store: Store, sub: JSON, origin: Origin, *, base_url: str) -> None:
    """The current period is over: cancel as scheduled, or start the next period and bill it."""
    at = now_for(store, sub["customer"])
    if sub["cancel_at_period_end"]:
        billing_dunning.cancel(store, sub, at, origin, reason="cancellation_requested")
        return
    before = copy.deepcopy(sub["items"])
    for item in sub["items"]["data"]:
        interval, count = interval_of(item["price"])
        end = int(item["current_period_end"])
        item["current_period_start"] = end
        item["current_period_end"] = period_end(
            int(sub["billing_cycle_anchor"]), end, interval, count
        )
    # A renewal invoice's own period is the one that just ended; its lines bill the next one.
    ended = (int(before["data"][0]["current_period_start"]), at)
    previous = {"items": before, "latest_invoice": sub["latest_invoice"]}
    inv = invoice_for(store, sub, "subscription_cycle", ended, origin, base_url)
    store.emit("customer.subscription.updated", sub, origin, previous=previous)
    if sub["collection_method"] == "charge_automatically":
        billing_invoices.collect(store, inv, origin, base_url=base_url)


def expire_incomplete(store: Store, sub: JSON, origin: Origin) -> None:
    """23 hours without a paid first invoice: `incomplete_expired`, the invoice voided."""
    state(store).incomplete_deadline.pop(sub["id"], None)
    if sub["status"] != "incomplete":
        return
    latest = sub["latest_invoice"]
    if latest and state(store).invoices[latest]["status"] == "open":
        billing_invoices.void(store, state(store).invoices[latest], origin)
    previous = {"status": sub["status"]}
    sub.update(status="incomplete_expired", ended_at=now_for(store, sub["customer"]))
    store.emit("customer.subscription.updated", sub, origin, previous=previous)
