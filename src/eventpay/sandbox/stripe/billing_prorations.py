"""Prorations when a subscription item's price or quantity changes mid-period.

Stripe's rule, to the second: a credit for the unused time on the old price and a charge for
the remaining time on the new one, each `round(unit_amount * quantity * remaining / period)`
(half away from zero), as two pending invoice items (`proration: true`) of the subscription.
They join the next invoice of the subscription (the renewal, or an immediate one with
`proration_behavior=always_invoice`). Only price and quantity of existing items change, within
the same currency and interval.
"""

from __future__ import annotations

from datetime import UTC, datetime

from . import billing_invoice_objects, billing_objects
from .billing_common import price, state
from .billing_periods import interval_of
from .errors import ParameterError
from .forms import Params
from .objects import JSON, new_id
from .store import Store


def recurring_price(store: Store, price_id: str, param: str) -> JSON:
    found = price(store, price_id, param=param)
    if found["recurring"] is None:
        raise ParameterError(
            f"The price specified is set to `type=one_time` but this field only accepts prices "
            f"with `type=recurring`: {price_id}",
            param=param,
        )
    if not found["active"]:
        raise ParameterError(f"The price specified is inactive: {price_id}", param=param)
    return found


def _prorate(amount: int, remaining: int, total: int) -> int:
    """`amount * remaining / total`, rounded half away from zero."""
    magnitude = (abs(amount) * remaining * 2 + total) // (2 * total)
    return magnitude if amount >= 0 else -magnitude


def _proration_item(
    store: Store, sub: JSON, amount: int, description: str, period: tuple[int, int]
) -> JSON:
    obj = billing_invoice_objects.invoice_item(
        ii_id=new_id("ii_"),
        created=period[0],
        customer_id=str(sub["customer"]),
        amount=amount,
        currency=str(sub["currency"]),
        description=description,
        quantity=1,
        unit_amount=amount,
        metadata={},
        period=period,
        proration=True,
        sub_id=str(sub["id"]),
        test_clock=sub["test_clock"],
    )
    state(store).invoice_items[obj["id"]] = obj
    return obj


def change_items(store: Store, sub: JSON, params: Params, at: int, behavior: str) -> bool:
    entries = params.data.get("items")
    if entries is None:
        return False
    if not isinstance(entries, list):
        raise ParameterError("Invalid array: items", param="items")
    by_id = {item["id"]: item for item in sub["items"]["data"]}
    changed = False
    for index, entry in enumerate(entries):
        entry_params = Params(entry if isinstance(entry, dict) else {})
        entry_params.only(["id", "price", "quantity"])
        item_id = entry_params.string("id")
        if item_id is None or item_id not in by_id:
            raise ParameterError(
                "The sandbox can only change existing items: pass items[n][id].",
                param=f"items[{index}][id]",
            )
        item = by_id[item_id]
        new_price = item["price"]
        if "price" in entry_params:
            param = f"items[{index}][price]"
            new_price = recurring_price(store, str(entry_params.string("price")), param)
        quantity = entry_params.integer("quantity", minimum=1) or int(item["quantity"])
        if new_price["currency"] != sub["currency"] or interval_of(new_price) != interval_of(
            item["price"]
        ):
            raise ParameterError(
                "The Stripe sandbox only changes prices within the same currency and interval.",
                param=f"items[{index}][price]",
            )
        old_amount = int(item["price"]["unit_amount"]) * int(item["quantity"])
        new_amount = int(new_price["unit_amount"]) * quantity
        if new_price["id"] == item["price"]["id"] and quantity == item["quantity"]:
            continue
        start, end = int(item["current_period_start"]), int(item["current_period_end"])
        remaining = end - at
        if behavior != "none" and 0 < remaining <= end - start:
            when = _day(at)
            old_name = item["price"]["nickname"] or item["price"]["product"]
            new_name = new_price["nickname"] or new_price["product"]
            credit = _prorate(-old_amount, remaining, end - start)
            debit = _prorate(new_amount, remaining, end - start)
            _proration_item(
                store, sub, credit, f"Unused time on {old_name} after {when}", (at, end)
            )
            _proration_item(
                store, sub, debit, f"Remaining time on {new_name} after {when}", (at, end)
            )
        item.update(price=dict(new_price), plan=billing_objects.plan(new_price), quantity=quantity)
        changed = True
    return changed


def _day(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%d %b %Y")
