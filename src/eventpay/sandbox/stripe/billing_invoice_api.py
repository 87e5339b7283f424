"""The `/v1/invoices` and `/v1/invoiceitems` operations (one-off invoices, such as a sponsor's).

`POST /v1/invoices` makes a draft (`collection_method=send_invoice` needs `days_until_due` or
`due_date`; pending invoice items join it only with `pending_invoice_items_behavior=include`,
Stripe's default being `exclude`); items are added with `POST /v1/invoiceitems` and
`invoice=in_...`. `/finalize` opens it (number, hosted page, PaymentIntent), `/send` marks it
sent (`invoice.sent`, finalizing a draft first), `/pay` charges a `payment_method` (or the
default) or records `paid_out_of_band=true`, `/void` voids it. The recipient can also pay on
the hosted page (billing_hosted.py) or by confirming the PaymentIntent named by
`payments.data[0].payment.payment_intent`. The lifecycle itself is billing_invoices.py's.
"""

from __future__ import annotations

import copy

from . import billing_invoice_objects, billing_invoices, billing_objects, currencies
from .billing_common import (
    Result,
    customer,
    expand,
    invoice,
    invoice_item,
    metadata_update,
    now_for,
    page,
    payment_method,
    price,
    state,
    subscription,
)
from .errors import InvalidRequestError, ParameterError
from .gateway import Call
from .objects import new_id
from .store import Store


def _not_draft(inv: dict[str, object]) -> InvalidRequestError:
    return InvalidRequestError(
        f"You can only modify draft invoices; this invoice's status is {inv['status']}.",
        code="invoice_not_editable",
    )


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "customer",
            "collection_method",
            "days_until_due",
            "due_date",
            "description",
            "metadata",
            "auto_advance",
            "pending_invoice_items_behavior",
            "currency",
            "expand",
        ]
    )
    cus = customer(store, str(params.string("customer", required=True)), param="customer")
    collection = (
        params.string("collection_method", choices=("charge_automatically", "send_invoice"))
        or "charge_automatically"
    )
    days = params.integer("days_until_due", minimum=0)
    due_date = params.integer("due_date", minimum=0)
    if collection == "send_invoice" and days is None and due_date is None:
        raise ParameterError(
            "Invoices with `collection_method=send_invoice` need `days_until_due` or `due_date`.",
            param="days_until_due",
        )
    if collection == "charge_automatically" and (days is not None or due_date is not None):
        raise ParameterError(
            "`days_until_due` and `due_date` only apply to `collection_method=send_invoice`.",
            param="days_until_due" if days is not None else "due_date",
        )
    behavior = params.string("pending_invoice_items_behavior", choices=("exclude", "include"))
    currency = currencies.check_currency(params.string("currency") or cus["currency"] or "usd")
    inv = billing_invoices.new_invoice(
        store,
        cus=cus,
        collection_method=collection,
        billing_reason="manual",
        sub=None,
        period=None,
        days_until_due=days,
        due_date=due_date,
        description=params.string("description") or None,
        metadata=params.metadata() or {},
        currency=currency,
        origin=call.origin,
    )
    auto = params.boolean("auto_advance")
    if auto is not None:
        inv["auto_advance"] = auto
    if behavior == "include":
        billing_invoices.pull_pending_items(store, inv, sub_id=None)
    return 200, expand(store, inv, params.strings("expand"))


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, invoice(store, call.path("id")), call.params.strings("expand"))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "limit",
            "starting_after",
            "ending_before",
            "customer",
            "subscription",
            "status",
            "collection_method",
            "expand",
        ]
    )
    wanted = {
        "customer": params.string("customer"),
        "status": params.string(
            "status", choices=("draft", "open", "paid", "uncollectible", "void")
        ),
        "collection_method": params.string("collection_method"),
    }
    sub_id = params.string("subscription")

    def keep(inv: dict[str, object]) -> bool:
        if any(value is not None and inv[key] != value for key, value in wanted.items()):
            return False
        if sub_id is None:
            return True
        parent = inv["parent"]
        return isinstance(parent, dict) and parent["subscription_details"]["subscription"] == sub_id

    items = [inv for inv in state(store).invoices.values() if keep(inv)]
    listed = page(items, params, url="/v1/invoices", kind="invoice")
    return 200, expand(store, listed, params.strings("expand"))


def update(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["description", "metadata", "days_until_due", "due_date", "auto_advance", "expand"])
    inv = invoice(store, call.path("id"))
    if any(k not in ("metadata", "expand") for k in params.data) and inv["status"] != "draft":
        raise _not_draft(inv)
    previous: dict[str, object] = {}
    if "description" in params:
        previous["description"] = inv["description"]
        inv["description"] = params.string("description") or None
    days = params.integer("days_until_due", minimum=0)
    due = params.integer("due_date", minimum=0)
    if days is not None or due is not None:
        previous["due_date"] = inv["due_date"]
        inv["due_date"] = due if due is not None else int(inv["created"]) + int(days or 0) * 86400
    auto = params.boolean("auto_advance")
    if auto is not None:
        previous["auto_advance"] = inv["auto_advance"]
        inv["auto_advance"] = auto
    metadata = metadata_update(inv["metadata"], params)
    if metadata != inv["metadata"]:
        previous["metadata"] = inv["metadata"]
        inv["metadata"] = metadata
    store.emit("invoice.updated", inv, call.origin, previous=previous)
    return 200, expand(store, inv, params.strings("expand"))


def finalize(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["auto_advance", "expand"])
    inv = invoice(store, call.path("id"))
    auto = params.boolean("auto_advance")
    if auto is not None:
        inv["auto_advance"] = auto
    billing_invoices.finalize(store, inv, call.origin, base_url=call.base_url)
    return 200, expand(store, inv, params.strings("expand"))


def send(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["expand"])
    inv = invoice(store, call.path("id"))
    if inv["collection_method"] != "send_invoice":
        raise InvalidRequestError(
            "You can only manually send an invoice if its collection method is 'send_invoice'.",
            code="invoice_not_editable",
        )
    if inv["status"] == "draft":
        billing_invoices.finalize(store, inv, call.origin, base_url=call.base_url)
    if inv["status"] not in ("open", "paid"):
        raise InvalidRequestError(
            f"You cannot send an invoice whose status is {inv['status']}.",
            code="invoice_not_editable",
        )
    store.emit("invoice.sent", inv, call.origin)
    return 200, expand(store, inv, params.strings("expand"))


def pay(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["payment_method", "paid_out_of_band", "off_session", "forgive", "expand"])
    inv = invoice(store, call.path("id"))
    if inv["status"] == "draft":
        billing_invoices.finalize(store, inv, call.origin, base_url=call.base_url)
    if inv["status"] == "paid":
        raise InvalidRequestError("Invoice is already paid.")
    if inv["status"] != "open":
        raise InvalidRequestError(
            f"You cannot pay an invoice whose status is {inv['status']}.",
            code="invoice_not_editable",
        )
    if params.boolean("paid_out_of_band"):
        intent = billing_invoices.intent_of(store, inv)
        if intent is not None:
            intent.update(status="canceled", canceled_at=now_for(store, inv["customer"]))
        billing_invoices.mark_paid(store, inv, call.origin, pm_id=None)
        return 200, expand(store, inv, params.strings("expand"))
    given = params.string("payment_method")
    pm_id = (
        payment_method(store, given, param="payment_method")
        if given
        else billing_invoices.default_payment_method(store, inv)
    )
    if pm_id is None:
        raise InvalidRequestError(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method.",
            code="invoice_no_payment_method_types",
        )
    off_session = params.boolean("off_session")
    billing_invoices.charge(
        store,
        inv,
        pm_id,
        call.origin,
        base_url=call.base_url,
        off_session=True if off_session is None else off_session,
    )
    return 200, expand(store, inv, params.strings("expand"))


def void(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    inv = invoice(store, call.path("id"))
    billing_invoices.void(store, inv, call.origin)
    return 200, expand(store, inv, call.params.strings("expand"))


def list_lines(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "expand"])
    inv = invoice(store, call.path("id"))
    lines = list(inv["lines"]["data"])
    listed = page(lines[::-1], params, url=f"/v1/invoices/{inv['id']}/lines", kind="line_item")
    return 200, copy.deepcopy(listed)


# Invoice items


def create_item(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "customer",
            "amount",
            "currency",
            "description",
            "invoice",
            "metadata",
            "price",
            "quantity",
            "unit_amount_decimal",
            "subscription",
            "period",
            "expand",
        ]
    )
    cus = customer(store, str(params.string("customer", required=True)), param="customer")
    quantity = params.integer("quantity", minimum=1) or 1
    unit: int | None = None
    if "price" in params:
        chosen = price(store, str(params.string("price")), param="price")
        currency, unit = str(chosen["currency"]), int(chosen["unit_amount"])
        amount = unit * quantity
    else:
        currency = currencies.check_currency(str(params.string("currency", required=True)))
        if "unit_amount_decimal" in params:
            unit = params.integer("unit_amount_decimal", required=True)
            amount = int(unit or 0) * quantity
        else:
            amount = int(params.integer("amount", required=True) or 0)
    sub_id = params.string("subscription")
    if sub_id:
        subscription(store, sub_id, param="subscription")
    at = now_for(store, cus["id"])
    item = billing_invoice_objects.invoice_item(
        ii_id=new_id("ii_"),
        created=at,
        customer_id=cus["id"],
        amount=amount,
        currency=currency,
        description=params.string("description") or None,
        quantity=quantity,
        unit_amount=unit,
        metadata=params.metadata() or {},
        period=(at, at),
        proration=False,
        sub_id=sub_id or None,
        test_clock=cus["test_clock"],
    )
    in_id = params.string("invoice")
    target = invoice(store, in_id, param="invoice") if in_id else None
    if target is not None:
        if target["status"] != "draft":
            raise _not_draft(target)
        if target["customer"] != cus["id"] or target["currency"] != currency:
            raise ParameterError(
                "The invoice item's customer and currency must match the invoice's.",
                param="invoice",
            )
    state(store).invoice_items[item["id"]] = item
    if target is not None:
        billing_invoices.attach_item(target, item)
    store.emit("invoiceitem.created", item, call.origin)
    return 200, expand(store, item, params.strings("expand"))


def retrieve_item(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, invoice_item(store, call.path("id")), call.params.strings("expand"))


def list_items(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "customer", "invoice", "pending"])
    wanted = params.string("customer")
    in_id = params.string("invoice")
    pending = params.boolean("pending")
    items = [
        i
        for i in state(store).invoice_items.values()
        if (wanted is None or i["customer"] == wanted)
        and (in_id is None or i["invoice"] == in_id)
        and (pending is None or (i["invoice"] is None) is pending)
    ]
    return 200, copy.deepcopy(page(items, params, url="/v1/invoiceitems", kind="invoiceitem"))


def delete_item(store: Store, call: Call) -> Result:
    call.params.only([])
    item = invoice_item(store, call.path("id"))
    if item["invoice"] is not None:
        inv = invoice(store, item["invoice"])
        if inv["status"] != "draft":
            raise _not_draft(inv)
        inv["lines"]["data"] = [
            line
            for line in inv["lines"]["data"]
            if line["parent"]["invoice_item_details"] is None
            or line["parent"]["invoice_item_details"]["invoice_item"] != item["id"]
        ]
        billing_invoices.recompute(inv)
    del state(store).invoice_items[item["id"]]
    store.emit("invoiceitem.deleted", item, call.origin)
    return 200, billing_objects.deleted(item["id"], "invoiceitem")
