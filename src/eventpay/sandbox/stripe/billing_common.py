"""What every Billing operation needs: lookups with Stripe's 404s, billing time, `expand`.

Billing time is the customer's test clock's `frozen_time` when the customer is attached to a
test clock, the wall clock otherwise (as at Stripe, where only clock-bound objects stand still).
`expand` handles Billing's expandable ids and the invoice's includable `confirmation_secret` and
`payments`; PaymentIntent expansion stays in resources.py. Callers hold the store's lock.
"""

from __future__ import annotations

import calendar
import copy
import time
from datetime import UTC, datetime
from typing import Any

from .billing_state import BillingState
from .cards import TEST_CARDS, payment_method_object
from .errors import ParameterError, ResourceMissing
from .forms import Params
from .objects import JSON, list_object
from .resources import paginate
from .store import Store

DAY_S = 24 * 60 * 60
Result = tuple[int, JSON]


def state(store: Store) -> BillingState:
    return store.state.billing


def _find(table: dict[str, JSON], kind: str, obj_id: str, param: str | None) -> JSON:
    found = table.get(obj_id)
    if found is None:
        raise ResourceMissing(kind, obj_id, param=param)
    return found


def product(store: Store, obj_id: str, *, param: str | None = None) -> JSON:
    return _find(state(store).products, "product", obj_id, param)


def price(store: Store, obj_id: str, *, param: str | None = None) -> JSON:
    return _find(state(store).prices, "price", obj_id, param)


def customer(store: Store, obj_id: str, *, param: str | None = None) -> JSON:
    return _find(state(store).customers, "customer", obj_id, param)


def subscription(store: Store, obj_id: str, *, param: str | None = None) -> JSON:
    return _find(state(store).subscriptions, "subscription", obj_id, param)


def invoice(store: Store, obj_id: str, *, param: str | None = None) -> JSON:
    return _find(state(store).invoices, "invoice", obj_id, param)


def invoice_item(store: Store, obj_id: str) -> JSON:
    return _find(state(store).invoice_items, "invoiceitem", obj_id, None)


def find_clock(store: Store, obj_id: str, *, param: str | None = None) -> JSON:
    return _find(state(store).test_clocks, "test_clock", obj_id, param)


def now_for(store: Store, customer_id: str) -> int:
    """Billing time for the customer: its test clock's frozen time, else the wall clock."""
    clock_id = state(store).customers[customer_id]["test_clock"]
    if clock_id is not None and clock_id in state(store).test_clocks:
        return int(state(store).test_clocks[clock_id]["frozen_time"])
    return int(time.time())


def payment_method(store: Store, value: str, *, param: str) -> str:
    """A `pm_...` id: a test token (`pm_card_visa`) mints a fresh one, as in test mode."""
    if value in TEST_CARDS:
        return store.mint_payment_method(TEST_CARDS[value])
    if value not in store.state.payment_methods:
        raise ResourceMissing("PaymentMethod", value, param=param)
    return value


def _shift_months(anchor: int, months: int) -> int:
    start = datetime.fromtimestamp(anchor, UTC)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def period_end(anchor: int, current_end: int, interval: str, count: int) -> int:
    """The end of the period after the one ending at `current_end`, anchored like Stripe.

    Month and year periods keep the anchor's day of month (clamped to short months: an anchor
    on the 31st bills on the 30th in April and on the 31st again in May).
    """
    if interval in ("day", "week"):
        step = count * DAY_S * (7 if interval == "week" else 1)
        return current_end + step
    months = count * (12 if interval == "year" else 1)
    periods = 1
    while _shift_months(anchor, periods * months) <= current_end:
        periods += 1
    return _shift_months(anchor, periods * months)


def metadata_update(current: dict[str, str], params: Params) -> dict[str, str]:
    """Stripe's metadata merge: keys set to "" are removed; `metadata=""` clears all."""
    if "metadata" not in params:
        return current
    if params.data["metadata"] == "":
        return {}
    merged = {**current, **(params.metadata() or {})}
    return {k: v for k, v in merged.items() if v != ""}


def page(items: list[JSON], params: Params, *, url: str, kind: str) -> JSON:
    """A list page, newest first, with Stripe's cursors."""
    return paginate(items[::-1], params, url=url, kind=kind)


# expand

_EXPANDABLE = {
    "customer",
    "default_payment_method",
    "default_price",
    "invoice",
    "latest_charge",
    "latest_invoice",
    "payment_intent",
    "price",
    "product",
    "subscription",
    "test_clock",
}


def _lookup(store: Store, value: str, whole: str) -> JSON:
    billing = state(store)
    tables: list[dict[str, JSON]] = [
        billing.customers,
        billing.invoices,
        billing.prices,
        billing.products,
        billing.subscriptions,
        billing.test_clocks,
        store.state.payment_intents,
        store.state.charges,
    ]
    for table in tables:
        if value in table:
            return copy.deepcopy(table[value])
    if value in store.state.payment_methods:
        return payment_method_object(value, store.state.payment_methods[value], int(time.time()))
    raise ParameterError(f"This property cannot be expanded ({whole}).", param="expand")


def _include(store: Store, node: JSON, head: str) -> bool:
    """Invoice fields Stripe shows only when asked: `confirmation_secret` and `payments`."""
    if node.get("object") != "invoice" or head not in ("confirmation_secret", "payments"):
        return False
    payments = state(store).invoice_payments.get(node["id"], [])
    if head == "payments":
        node[head] = list_object(
            copy.deepcopy(payments), has_more=False, url=f"/v1/invoices/{node['id']}/payments"
        )
        return True
    secret = None
    if payments:
        pi_id = payments[-1]["payment"]["payment_intent"]
        secret = {"client_secret": store.intent(pi_id)["client_secret"], "type": "payment_intent"}
    node[head] = secret
    return True


def _expand(store: Store, node: Any, parts: list[str], whole: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict) and node.get("object") == "list" and head == "data" and rest:
        for item in node["data"]:
            _expand(store, item, rest, whole)
        return
    if not isinstance(node, dict):
        raise ParameterError(f"This property cannot be expanded ({whole}).", param="expand")
    if head not in node and not _include(store, node, head):
        raise ParameterError(f"This property cannot be expanded ({whole}).", param="expand")
    value = node[head]
    if isinstance(value, str):
        if head not in _EXPANDABLE:
            raise ParameterError(f"This property cannot be expanded ({whole}).", param="expand")
        node[head] = value = _lookup(store, value, whole)
    if rest and value is not None:
        _expand(store, value, rest, whole)


def expand(store: Store, obj: JSON, paths: list[str] | None) -> JSON:
    """A copy of `obj` with the requested ids replaced by objects (and includables added)."""
    result = copy.deepcopy(obj)
    for path in paths or []:
        _expand(store, result, path.split("."), path)
    return result
