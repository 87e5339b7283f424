"""Subscriptions: create, retrieve, list, update (cancel at period end, price change), cancel.

Creation makes the first invoice (`subscription_create`) and finalizes it, so its PaymentIntent
exists at once. `payment_behavior=default_incomplete` leaves it for the customer to confirm with
the client secret (`latest_invoice.confirmation_secret`, expand it); `allow_incomplete` (the
default) charges the default payment method, if any, straight away. Statuses: incomplete,
incomplete_expired, active, past_due, canceled (send_invoice subscriptions start active).
`error_if_incomplete` and `pending_if_incomplete` are refused: the sandbox does not emulate them.

Price changes prorate (`proration_behavior` create_prorations, the default, always_invoice or
none: billing_prorations.py); what happens at a period's end is billing_periods.py's.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from . import (
    billing_dunning,
    billing_invoices,
    billing_objects,
    billing_periods,
    billing_prorations,
)
from .billing_common import (
    Result,
    customer,
    expand,
    metadata_update,
    now_for,
    page,
    payment_method,
    period_end,
    state,
    subscription,
)
from .errors import CardError, InvalidRequestError, ParameterError
from .forms import Params
from .gateway import Call
from .objects import JSON, new_id
from .store import Store

INCOMPLETE_EXPIRY_S = 23 * 60 * 60
billing_periods.ENDED = ("canceled", "incomplete_expired")


def _pm_param(store: Store, params: Params) -> str | None:
    value = params.string("default_payment_method")
    if not value:
        return None
    return payment_method(store, value, param="default_payment_method")


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "customer",
            "items",
            "payment_behavior",
            "collection_method",
            "days_until_due",
            "default_payment_method",
            "description",
            "metadata",
            "payment_settings",
            "cancel_at_period_end",
            "off_session",
            "proration_behavior",
            "expand",
        ]
    )
    cus = customer(store, str(params.string("customer", required=True)), param="customer")
    behavior = params.string(
        "payment_behavior",
        choices=(
            "allow_incomplete",
            "default_incomplete",
            "error_if_incomplete",
            "pending_if_incomplete",
        ),
    )
    if behavior in ("error_if_incomplete", "pending_if_incomplete"):
        raise ParameterError(
            f"The Stripe sandbox does not emulate payment_behavior={behavior}.",
            param="payment_behavior",
        )
    collection = params.string(
        "collection_method", choices=("charge_automatically", "send_invoice")
    )
    days_until_due = params.integer("days_until_due", minimum=0)
    if collection == "send_invoice" and days_until_due is None:
        raise ParameterError(
            "Missing required param: days_until_due.",
            code="parameter_missing",
            param="days_until_due",
        )
    settings = params.mapping("payment_settings", allowed=("save_default_payment_method",))
    save = None
    if settings is not None:
        save = Params(settings).string(
            "save_default_payment_method", choices=("off", "on_subscription")
        )
    entries = params.data.get("items")
    if not isinstance(entries, list) or not entries:
        raise ParameterError(
            "Missing required param: items.", code="parameter_missing", param="items"
        )
    chosen: list[tuple[JSON, int]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ParameterError(f"Invalid object: items[{index}]", param=f"items[{index}]")
        entry_params = Params(entry)
        entry_params.only(["price", "quantity", "metadata"])
        price_id = str(entry_params.string("price", required=True))
        found = billing_prorations.recurring_price(store, price_id, f"items[{index}][price]")
        chosen.append((found, entry_params.integer("quantity", minimum=1) or 1))
    currencies = {p["currency"] for p, _ in chosen}
    intervals = {billing_periods.interval_of(p) for p, _ in chosen}
    if len(currencies) > 1 or len(intervals) > 1:
        raise ParameterError(
            "All prices on a subscription must have the same `currency` and `recurring.interval`.",
            param="items",
        )
    at = now_for(store, cus["id"])
    interval, count = intervals.pop()
    end = period_end(at, at, interval, count)
    sub_id = new_id("sub_")
    items = [
        billing_objects.subscription_item(
            si_id=new_id("si_", 14),
            created=at,
            sub_id=sub_id,
            price_obj=found,
            quantity=quantity,
            start=at,
            end=end,
        )
        for found, quantity in chosen
    ]
    sub = billing_objects.subscription(
        sub_id=sub_id,
        created=at,
        customer_id=cus["id"],
        currency=currencies.pop(),
        items=items,
        collection_method=collection or "charge_automatically",
        days_until_due=days_until_due,
        default_payment_method=_pm_param(store, params),
        description=params.string("description") or None,
        metadata=params.metadata() or {},
        save_default_payment_method=save,
        test_clock=cus["test_clock"],
    )
    if params.boolean("cancel_at_period_end"):
        sub.update(cancel_at_period_end=True, cancel_at=end, canceled_at=at)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
    state(store).subscriptions[sub_id] = sub
    if sub["collection_method"] == "send_invoice":
        sub["status"] = "active"
    store.emit("customer.subscription.created", sub, call.origin)
    inv = billing_periods.invoice_for(
        store, sub, "subscription_create", (at, at), call.origin, call.base_url
    )
    if sub["status"] == "incomplete" and inv["status"] == "open":
        state(store).incomplete_deadline[sub_id] = at + billing_periods.INCOMPLETE_EXPIRY_S
    automatic = sub["collection_method"] == "charge_automatically"
    if automatic and behavior != "default_incomplete" and inv["status"] == "open":
        pm_id = billing_invoices.default_payment_method(store, inv)
        if pm_id is not None:
            off_session = bool(params.boolean("off_session"))
            with contextlib.suppress(CardError):
                billing_invoices.charge(
                    store, inv, pm_id, call.origin, base_url=call.base_url, off_session=off_session
                )
    return 200, expand(store, sub, params.strings("expand"))


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, subscription(store, call.path("id")), call.params.strings("expand"))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "limit",
            "starting_after",
            "ending_before",
            "customer",
            "status",
            "price",
            "test_clock",
            "expand",
        ]
    )
    wanted = params.string("customer")
    status = params.string("status")
    price_id = params.string("price")
    clock = params.string("test_clock")

    def keep(sub: JSON) -> bool:
        if status is None and sub["status"] == "canceled":
            return False
        if status not in (None, "all", "ended") and sub["status"] != status:
            return False
        if status == "ended" and sub["status"] not in billing_periods.ENDED:
            return False
        prices = {item["price"]["id"] for item in sub["items"]["data"]}
        return (
            (wanted is None or sub["customer"] == wanted)
            and (price_id is None or price_id in prices)
            and (clock is None or sub["test_clock"] == clock)
        )

    items = [s for s in state(store).subscriptions.values() if keep(s)]
    listed = page(items, params, url="/v1/subscriptions", kind="subscription")
    return 200, expand(store, listed, params.strings("expand"))


def update(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "cancel_at_period_end",
            "items",
            "proration_behavior",
            "proration_date",
            "metadata",
            "default_payment_method",
            "description",
            "payment_behavior",
            "off_session",
            "cancellation_details",
            "expand",
        ]
    )
    sub = subscription(store, call.path("id"))
    if sub["status"] in billing_periods.ENDED and any(
        k not in ("metadata", "expand") for k in params.data
    ):
        raise InvalidRequestError(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    at = now_for(store, sub["customer"])
    behavior = (
        params.string("proration_behavior", choices=("create_prorations", "none", "always_invoice"))
        or "create_prorations"
    )
    when = params.integer("proration_date") or at
    previous: dict[str, Any] = {}
    before_items = copy.deepcopy(sub["items"])
    if billing_prorations.change_items(store, sub, params, when, behavior):
        previous["items"] = before_items
    flag = params.boolean("cancel_at_period_end")
    if flag is not None and flag != sub["cancel_at_period_end"]:
        previous.update(
            cancel_at_period_end=sub["cancel_at_period_end"],
            cancel_at=sub["cancel_at"],
            canceled_at=sub["canceled_at"],
        )
        end = max(int(item["current_period_end"]) for item in sub["items"]["data"])
        sub.update(
            cancel_at_period_end=flag,
            cancel_at=end if flag else None,
            canceled_at=at if flag else None,
        )
        sub["cancellation_details"]["reason"] = "cancellation_requested" if flag else None
    if "default_payment_method" in params:
        previous["default_payment_method"] = sub["default_payment_method"]
        sub["default_payment_method"] = _pm_param(store, params)
    if "description" in params:
        previous["description"] = sub["description"]
        sub["description"] = params.string("description") or None
    metadata = metadata_update(sub["metadata"], params)
    if metadata != sub["metadata"]:
        previous["metadata"] = sub["metadata"]
        sub["metadata"] = metadata
    if previous:
        store.emit("customer.subscription.updated", sub, call.origin, previous=previous)
    if "items" in previous and behavior == "always_invoice":
        inv = billing_periods.invoice_for(
            store, sub, "subscription_update", (when, when), call.origin, call.base_url
        )
        billing_invoices.collect(store, inv, call.origin, base_url=call.base_url)
    return 200, expand(store, sub, params.strings("expand"))


def cancel(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["cancellation_details", "invoice_now", "prorate", "expand"])
    sub = subscription(store, call.path("id"))
    if sub["status"] in billing_periods.ENDED:
        raise InvalidRequestError(
            f"This subscription has already been canceled (status: {sub['status']}).",
        )
    details = params.mapping("cancellation_details", allowed=("comment", "feedback"))
    if details:
        sub["cancellation_details"].update(
            comment=Params(details).string("comment") or None,
            feedback=Params(details).string("feedback") or None,
        )
    billing_dunning.cancel(
        store, sub, now_for(store, sub["customer"]), call.origin, reason="cancellation_requested"
    )
    return 200, expand(store, sub, params.strings("expand"))
