"""Products, Prices and Customers: create, retrieve, update, list.

The catalogue side of Billing. Prices are per-unit, one-time or recurring (day, week, month or
year, `interval_count` >= 1); amount and currency never change once created, as at Stripe.
A customer may be attached to a test clock at creation (`test_clock`), which then sets the time
for its subscriptions and invoices; `invoice_settings[default_payment_method]` accepts a test
token (`pm_card_visa`) or a minted `pm_...` and is what renewals charge when the subscription
has no default of its own.
"""

from __future__ import annotations

import copy
import time

from . import billing_objects, currencies
from .billing_common import (
    Result,
    customer,
    expand,
    find_clock,
    metadata_update,
    now_for,
    page,
    payment_method,
    price,
    product,
    state,
)
from .errors import ParameterError
from .forms import Params
from .gateway import Call
from .objects import new_id
from .store import Store

_INTERVALS = ("day", "week", "month", "year")


def _wall() -> int:
    return int(time.time())


def _active(params: Params) -> bool:
    value = params.boolean("active")
    return True if value is None else value


# Products


def create_product(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["id", "name", "description", "metadata", "active", "expand"])
    name = params.string("name", required=True)
    prod_id = params.string("id") or new_id("prod_", 14)
    if prod_id in state(store).products:
        raise ParameterError(
            f"Product already exists: {prod_id}", code="resource_already_exists", param="id"
        )
    obj = billing_objects.product(
        prod_id=prod_id,
        created=_wall(),
        name=str(name),
        description=params.string("description") or None,
        metadata=params.metadata() or {},
        active=_active(params),
    )
    state(store).products[prod_id] = obj
    store.emit("product.created", obj, call.origin)
    return 200, copy.deepcopy(obj)


def retrieve_product(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, product(store, call.path("id")), call.params.strings("expand"))


def update_product(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["name", "description", "metadata", "active", "default_price", "expand"])
    obj = product(store, call.path("id"))
    previous = {}
    for name in ("name", "description"):
        if name in params:
            previous[name] = obj[name]
            obj[name] = params.string(name, required=name == "name") or None
    if "active" in params:
        previous["active"] = obj["active"]
        obj["active"] = bool(params.boolean("active"))
    if "default_price" in params:
        chosen = price(store, str(params.string("default_price")), param="default_price")
        previous["default_price"] = obj["default_price"]
        obj["default_price"] = chosen["id"]
    previous_metadata = obj["metadata"]
    obj["metadata"] = metadata_update(obj["metadata"], params)
    if obj["metadata"] != previous_metadata:
        previous["metadata"] = previous_metadata
    obj["updated"] = _wall()
    store.emit("product.updated", obj, call.origin, previous=previous)
    return 200, expand(store, obj, params.strings("expand"))


def list_products(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "active", "expand"])
    active = params.boolean("active")
    items = [p for p in state(store).products.values() if active is None or p["active"] is active]
    return 200, copy.deepcopy(page(items, params, url="/v1/products", kind="product"))


# Prices


def _recurring(params: Params) -> dict[str, object] | None:
    given = params.mapping("recurring", allowed=("interval", "interval_count", "usage_type"))
    if given is None:
        return None
    sub = Params(given)
    interval = sub.string("interval", required=True, choices=_INTERVALS)
    count = sub.integer("interval_count", minimum=1) or 1
    sub.string("usage_type", choices=("licensed",))
    limit = {"day": 365, "week": 52, "month": 12, "year": 1}[str(interval)]
    if count > limit:
        raise ParameterError(
            "The maximum billing interval is one year (1 year, 12 months, 52 weeks or 365 days).",
            param="recurring[interval_count]",
        )
    return {"interval": interval, "interval_count": count}


def create_price(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "currency",
            "unit_amount",
            "product",
            "product_data",
            "recurring",
            "nickname",
            "lookup_key",
            "metadata",
            "active",
            "expand",
        ]
    )
    currency = currencies.check_currency(str(params.string("currency", required=True)))
    amount = params.integer("unit_amount", required=True, minimum=0)
    if amount:
        currencies.check_amount(amount, currency, param="unit_amount")
    if "product" in params and "product_data" in params:
        raise ParameterError(
            "You may only specify one of these parameters: product, product_data.",
            code="parameters_exclusive",
        )
    data = params.mapping("product_data", allowed=("name", "metadata"))
    if data is not None:
        name = Params(data).string("name", required=True)
        prod = billing_objects.product(
            prod_id=new_id("prod_", 14),
            created=_wall(),
            name=str(name),
            description=None,
            metadata=Params(data).metadata() or {},
            active=True,
        )
        state(store).products[prod["id"]] = prod
        store.emit("product.created", prod, call.origin)
    else:
        prod = product(store, str(params.string("product", required=True)), param="product")
    lookup_key = params.string("lookup_key") or None
    if lookup_key and any(p["lookup_key"] == lookup_key for p in state(store).prices.values()):
        raise ParameterError(
            f"A price (`{lookup_key}`) already uses that lookup key.", param="lookup_key"
        )
    obj = billing_objects.price(
        price_id=new_id("price_"),
        created=_wall(),
        product_id=prod["id"],
        currency=currency,
        unit_amount=int(amount or 0),
        recurring=_recurring(params),
        nickname=params.string("nickname") or None,
        lookup_key=lookup_key,
        metadata=params.metadata() or {},
        active=_active(params),
    )
    state(store).prices[obj["id"]] = obj
    store.emit("price.created", obj, call.origin)
    return 200, expand(store, obj, params.strings("expand"))


def retrieve_price(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, price(store, call.path("id")), call.params.strings("expand"))


def update_price(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["active", "nickname", "lookup_key", "metadata", "expand"])
    obj = price(store, call.path("id"))
    previous = {}
    if "active" in params:
        previous["active"] = obj["active"]
        obj["active"] = bool(params.boolean("active"))
    for name in ("nickname", "lookup_key"):
        if name in params:
            previous[name] = obj[name]
            obj[name] = params.string(name) or None
    previous_metadata = obj["metadata"]
    obj["metadata"] = metadata_update(obj["metadata"], params)
    if obj["metadata"] != previous_metadata:
        previous["metadata"] = previous_metadata
    store.emit("price.updated", obj, call.origin, previous=previous)
    return 200, expand(store, obj, params.strings("expand"))


def list_prices(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "limit",
            "starting_after",
            "ending_before",
            "active",
            "product",
            "type",
            "lookup_keys",
            "currency",
            "expand",
        ]
    )
    active = params.boolean("active")
    wanted = params.string("product")
    kind = params.string("type", choices=("one_time", "recurring"))
    keys = params.strings("lookup_keys")
    items = [
        p
        for p in state(store).prices.values()
        if (active is None or p["active"] is active)
        and (wanted is None or p["product"] == wanted)
        and (kind is None or p["type"] == kind)
        and (keys is None or p["lookup_key"] in keys)
    ]
    listed = page(items, params, url="/v1/prices", kind="price")
    return 200, expand(store, listed, params.strings("expand"))


# Customers

_CUSTOMER_FIELDS = ("email", "name", "description", "phone")


def _default_pm(store: Store, params: Params) -> str | None:
    settings = params.mapping("invoice_settings", allowed=("default_payment_method",))
    if settings is None or "default_payment_method" not in settings:
        return None
    value = Params(settings).string("default_payment_method") or ""
    param = "invoice_settings[default_payment_method]"
    return payment_method(store, value, param=param) if value else ""


def create_customer(store: Store, call: Call) -> Result:
    params = call.params
    params.only([*_CUSTOMER_FIELDS, "metadata", "test_clock", "invoice_settings", "expand"])
    clock_id = params.string("test_clock") or None
    if clock_id is not None:
        find_clock(store, clock_id, param="test_clock")
    obj = billing_objects.customer(
        cus_id=new_id("cus_", 14),
        created=0,
        email=params.string("email") or None,
        name=params.string("name") or None,
        description=params.string("description") or None,
        phone=params.string("phone") or None,
        metadata=params.metadata() or {},
        test_clock=clock_id,
    )
    state(store).customers[obj["id"]] = obj
    obj["created"] = now_for(store, obj["id"])
    obj["invoice_settings"]["default_payment_method"] = _default_pm(store, params) or None
    store.emit("customer.created", obj, call.origin)
    return 200, expand(store, obj, params.strings("expand"))


def retrieve_customer(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, customer(store, call.path("id")), call.params.strings("expand"))


def update_customer(store: Store, call: Call) -> Result:
    params = call.params
    params.only([*_CUSTOMER_FIELDS, "metadata", "invoice_settings", "balance", "expand"])
    obj = customer(store, call.path("id"))
    previous: dict[str, object] = {}
    for name in _CUSTOMER_FIELDS:
        if name in params:
            previous[name] = obj[name]
            obj[name] = params.string(name) or None
    balance = params.integer("balance")
    if balance is not None:
        previous["balance"] = obj["balance"]
        obj["balance"] = balance
    chosen = _default_pm(store, params)
    if chosen is not None:
        previous["invoice_settings"] = copy.deepcopy(obj["invoice_settings"])
        obj["invoice_settings"]["default_payment_method"] = chosen or None
    previous_metadata = obj["metadata"]
    obj["metadata"] = metadata_update(obj["metadata"], params)
    if obj["metadata"] != previous_metadata:
        previous["metadata"] = previous_metadata
    store.emit("customer.updated", obj, call.origin, previous=previous)
    return 200, expand(store, obj, params.strings("expand"))


def list_customers(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "email", "test_clock", "expand"])
    email = params.string("email")
    clock = params.string("test_clock")
    items = [
        c
        for c in state(store).customers.values()
        if (email is None or c["email"] == email) and (clock is None or c["test_clock"] == clock)
    ]
    listed = page(items, params, url="/v1/customers", kind="customer")
    return 200, expand(store, listed, params.strings("expand"))
