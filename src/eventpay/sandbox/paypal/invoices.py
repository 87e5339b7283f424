"""Invoicing v2: draft, send, cancel, and (as the test buyer) pay an invoice.

`POST /v2/invoicing/invoices` creates a DRAFT (201, the whole invoice, as the specification's
201 schema has it) with totals computed from its items (`quantity * unit_amount` plus each
item's tax percentage, rounded half up per line). A `detail.invoice_number` already used is
refused with 422 DUPLICATE_INVOICE_NUMBER, one over 25 characters with PayPal's
INVALID_STRING_MAX_LENGTH; without one, PayPal's counter (`0001`, `0002`...) numbers it.
`send` moves a DRAFT to SENT (UNPAID when `send_to_recipient` is false) and answers 200 with a
link to the invoice; `cancel` moves a sent invoice to CANCELLED (204,
INVOICING.INVOICE.CANCELLED; a partly paid one is CANNOT_CANCEL_PAID_INVOICE);
`/_sandbox/invoices/{id}/pay` records the buyer's PayPal payment (PAID, INVOICING.INVOICE.PAID).
`detail.payment_term` gets its `due_date` worked out (invoice date + NET days, or the date given
with DUE_ON_DATE_SPECIFIED). `apply_payment` is the one way a payment lands on an invoice, for
the recipient's payments (`pay`, part payments as `configuration.partial_payment` allows) and
the merchant's recorded ones (billing_invoices.py): PARTIALLY_PAID until nothing is due.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import identifiers, money
from .errors import InvalidRequest, Issue, UnprocessableEntity, invalid, link, missing
from .gateway import Call, Reply
from .records import JSON
from .store import Store

_SENT = ("SENT", "UNPAID")
PAYABLE = ("SENT", "UNPAID", "PARTIALLY_PAID")
# Issue descriptions as the specification's `invoices.create-400` enumerates them.
_CURRENCY_LENGTH = "Currency code length should be 3 characters."
_NUMBER_LENGTH = "Invoice number length should be less than 25 characters."
_KEPT = ("invoicer", "primary_recipients", "additional_recipients", "configuration")


def invoice_url(base_url: str, invoice_id: str) -> str:
    return f"{base_url}/v2/invoicing/invoices/{invoice_id}"


def payer_url(base_url: str, invoice_id: str) -> str:
    """The recipient's page for paying the invoice (billing_invoices.py serves it)."""
    return f"{base_url}/invoice/p/{invoice_id}"


def create(store: Store, call: Call) -> Reply:
    body = call.body
    detail_in = body.get("detail")
    if not isinstance(detail_in, dict):
        raise missing("/detail")
    currency = detail_in.get("currency_code")
    if not isinstance(currency, str) or len(currency) != 3:
        raise _spec_error("INVALID_STRING_LENGTH", "/detail/currency_code", _CURRENCY_LENGTH)
    if currency not in money.EXPONENTS:
        raise invalid("/detail/currency_code", currency)
    number = detail_in.get("invoice_number")
    taken = {i["detail"]["invoice_number"] for i in store.state.invoices.values()}
    if number is not None and (not isinstance(number, str) or not 0 < len(number) <= 25):
        raise _spec_error("INVALID_STRING_MAX_LENGTH", "/detail/invoice_number", _NUMBER_LENGTH)
    if number in taken:
        field = "/detail/invoice_number"
        raise UnprocessableEntity(Issue("DUPLICATE_INVOICE_NUMBER", field=field, value=number))
    while number is None or number in taken:
        number = store.next_invoice_number()
    items, item_total, tax_total = _items(body.get("items", []), currency)
    now = identifiers.timestamp()
    detail = copy.deepcopy(detail_in)
    detail.update(invoice_number=number, currency_code=currency)
    detail.setdefault("invoice_date", identifiers.today())
    _payment_term(detail)
    detail["metadata"] = {"create_time": now, "last_update_time": now}
    invoice: JSON = {"id": identifiers.invoice_id(), "status": "DRAFT", "detail": detail}
    invoice.update({k: copy.deepcopy(body[k]) for k in _KEPT if k in body})
    invoice["items"] = items
    total = item_total + tax_total
    invoice["amount"] = {
        **money.amount(total, currency),
        "breakdown": {
            "item_total": money.amount(item_total, currency),
            "tax_total": money.amount(tax_total, currency),
        },
    }
    invoice["due_amount"] = money.amount(total, currency)
    store.state.invoices[invoice["id"]] = invoice
    return Reply(201, render(invoice, call.base_url))


# Days from the invoice date to the due date, per `payment_term_type`.
_NET_DAYS = {"DUE_ON_RECEIPT": 0, "NET_10": 10, "NET_15": 15, "NET_30": 30, "NET_45": 45}
_NET_DAYS.update(NET_60=60, NET_90=90)
_TERMS = (*_NET_DAYS, "DUE_ON_DATE_SPECIFIED", "NO_DUE_DATE")


def _payment_term(detail: JSON) -> None:
    """PayPal works the due date out from the term: invoice date + NET days, or the date given."""
    term = detail.get("payment_term")
    if term is None:
        return
    field = "/detail/payment_term"
    if not isinstance(term, dict):
        raise invalid(field, None, "INVALID_PARAMETER_SYNTAX")
    kind = term.get("term_type", "DUE_ON_DATE_SPECIFIED" if "due_date" in term else None)
    if kind not in _TERMS:
        raise invalid(f"{field}/term_type", kind)
    try:
        invoice_date = date.fromisoformat(str(detail["invoice_date"]))
        due = date.fromisoformat(str(term["due_date"])) if "due_date" in term else None
    except ValueError as exc:
        raise invalid("/detail/invoice_date", None, "INVALID_PARAMETER_SYNTAX") from exc
    if kind in _NET_DAYS:
        due = invoice_date + timedelta(days=_NET_DAYS[kind])
    if kind == "DUE_ON_DATE_SPECIFIED" and due is None:
        raise missing(f"{field}/due_date")
    if kind == "NO_DUE_DATE":
        due = None
    detail["payment_term"] = {"term_type": kind}
    if due is not None:
        if due < invoice_date:
            raise invalid(f"{field}/due_date", due.isoformat())
        detail["payment_term"]["due_date"] = due.isoformat()


def _spec_error(issue: str, field: str, description: str) -> InvalidRequest:
    return InvalidRequest(Issue(issue, field=field, description=description))


def _items(raw: Any, currency: str) -> tuple[list[JSON], int, int]:
    if not isinstance(raw, list):
        raise invalid("/items", None, "INVALID_PARAMETER_SYNTAX")
    items: list[JSON] = []
    item_total = tax_total = 0
    for index, entry in enumerate(raw):
        at = f"/items/{index}"
        if not isinstance(entry, dict):
            raise invalid(at, None, "INVALID_PARAMETER_SYNTAX")
        for key in ("name", "quantity", "unit_amount"):
            if key not in entry:
                raise missing(f"{at}/{key}")
        unit = entry["unit_amount"]
        if not isinstance(unit, dict) or unit.get("currency_code") != currency:
            raise invalid(f"{at}/unit_amount/currency_code", None)
        try:
            unit_minor = money.parse(unit.get("value"), currency)
            quantity = Decimal(str(entry["quantity"]))
            line = _round(quantity * unit_minor)
            tax_rate = Decimal(str(entry["tax"]["percent"])) if "tax" in entry else Decimal(0)
        except (money.MoneyProblem, InvalidOperation, KeyError, TypeError) as exc:
            raise invalid(at, None, "INVALID_PARAMETER_VALUE") from exc
        if unit_minor < 0 or quantity <= 0 or tax_rate < 0:
            raise invalid(at, None)
        tax = _round(line * tax_rate / 100)
        item = copy.deepcopy(entry)
        item["id"] = "ITEM-" + identifiers.resource_id()
        item["unit_amount"] = money.amount(unit_minor, currency)
        if "tax" in entry:
            item["tax"] = {**entry["tax"], "amount": money.amount(tax, currency)}
        items.append(item)
        item_total += line
        tax_total += tax
    return items, item_total, tax_total


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def render(invoice: JSON, base_url: str) -> JSON:
    out = copy.deepcopy(invoice)
    url = invoice_url(base_url, out["id"])
    links = [link(url, "self"), link(url, "replace", "PUT"), link(url, "delete", "DELETE")]
    if out["status"] == "DRAFT":
        links.append(link(f"{url}/send", "send", "POST"))
    if out["status"] in _SENT:
        links.append(link(f"{url}/cancel", "cancel", "POST"))
    if out["status"] in PAYABLE:
        links.append(link(f"{url}/payments", "record-payment", "POST"))
    out["links"] = links
    return out


def retrieve(store: Store, call: Call) -> Reply:
    return Reply(200, render(store.invoice(call.path("id")), call.base_url))


def send(store: Store, call: Call) -> Reply:
    invoice = store.invoice(call.path("id"))
    if invoice["status"] != "DRAFT":
        raise UnprocessableEntity(Issue("INVOICE_ALREADY_SENT", field="status", location="path"))
    to_recipient = call.body.get("send_to_recipient", True) is not False
    invoice["status"] = "SENT" if to_recipient else "UNPAID"
    now = identifiers.timestamp()
    invoice["detail"]["metadata"].update(
        first_sent_time=now,
        last_sent_time=now,
        last_update_time=now,
        recipient_view_url=payer_url(call.base_url, invoice["id"]),
    )
    return Reply(200, link(invoice_url(call.base_url, invoice["id"]), "self"))


def cancel(store: Store, call: Call) -> Reply:
    invoice = store.invoice(call.path("id"))
    status = invoice["status"]
    refusals = {
        "DRAFT": "CANNOT_CANCEL_DRAFT_INVOICE",
        "PAID": "CANNOT_CANCEL_PAID_INVOICE",
        "PARTIALLY_PAID": "CANNOT_CANCEL_PAID_INVOICE",
        "MARKED_AS_PAID": "CANNOT_CANCEL_PAID_INVOICE",
        "CANCELLED": "INVOICE_CANCELED_ALREADY",
    }
    if status in refusals:
        raise UnprocessableEntity(Issue(refusals[status], field="status", location="path"))
    invoice["status"] = "CANCELLED"
    now = identifiers.timestamp()
    invoice["detail"]["metadata"].update(cancel_time=now, last_update_time=now)
    store.emit(
        "INVOICING.INVOICE.CANCELLED",
        render(invoice, call.base_url),
        summary="An invoice was cancelled",
        base_url=call.base_url,
    )
    return Reply(204)


def pay(store: Store, invoice_id: str, base_url: str, minor: int | None = None) -> JSON:
    """The test buyer (the recipient) pays the invoice with PayPal: all that is due, or `minor`.

    A part payment needs the invoice's `configuration.partial_payment.allow_partial_payment`
    and at least its `minimum_amount_due` (or the whole balance, if that is less).
    """
    invoice = store.invoice(invoice_id)
    if invoice["status"] not in PAYABLE:
        raise UnprocessableEntity(Issue("INVALID_PARAMETER_VALUE", field="status", location="path"))
    currency = invoice["due_amount"]["currency_code"]
    due = money.parse(invoice["due_amount"]["value"], currency)
    amount = due if minor is None else minor
    if amount < due:
        partial = invoice.get("configuration", {}).get("partial_payment", {})
        floor = partial.get("minimum_amount_due")
        least = money.parse(floor["value"], currency) if isinstance(floor, dict) else 1
        if partial.get("allow_partial_payment") is not True or amount < min(least, due):
            raise UnprocessableEntity(
                Issue("INVALID_PARAMETER_VALUE", field="amount", location="body")
            )
    return apply_payment(store, invoice, amount, method="PAYPAL", base_url=base_url)[1]


def apply_payment(
    store: Store,
    invoice: JSON,
    minor: int,
    *,
    method: str,
    base_url: str,
    external: bool = False,
    payment_date: str | None = None,
    note: str | None = None,
) -> tuple[str, JSON]:
    """Record a payment of `minor` (at most what is due): PARTIALLY_PAID, or PAID (MARKED_AS_PAID
    when the merchant recorded the last of it), `payments.transactions`, INVOICING.INVOICE.PAID
    (PayPal sends it for part payments too). Returns the payment id and the invoice."""
    currency = invoice["due_amount"]["currency_code"]
    due = money.parse(invoice["due_amount"]["value"], currency)
    if not 0 < minor <= due:
        raise ValueError("a payment is more than zero and at most what is due")
    payments = invoice.setdefault(
        "payments", {"paid_amount": money.amount(0, currency), "transactions": []}
    )
    payment_id = ("EXTR-" if external else "") + identifiers.resource_id()
    entry: JSON = {
        "payment_id": payment_id,
        "payment_date": payment_date or identifiers.today(),
        "method": method,
        "type": "EXTERNAL" if external else "PAYPAL",
        "amount": money.amount(minor, currency),
    }
    if note:
        entry["note"] = note
    payments["transactions"].append(entry)
    if not external:
        # Money PayPal moved (a recorded payment moved none): transaction search lists it,
        # with PayPal's fee, worked out as a capture's is.
        store.state.invoice_payments[payment_id] = {
            "invoice_id": invoice["id"],
            "time": identifiers.timestamp(),
            "fee": money.checkout_fee(minor, currency),
        }
    paid = money.parse(payments["paid_amount"]["value"], currency) + minor
    payments["paid_amount"] = money.amount(paid, currency)
    invoice["due_amount"] = money.amount(due - minor, currency)
    if due - minor > 0:
        invoice["status"] = "PARTIALLY_PAID"
    else:
        invoice["status"] = "MARKED_AS_PAID" if external else "PAID"
    invoice["detail"]["metadata"]["last_update_time"] = identifiers.timestamp()
    rendered = render(invoice, base_url)
    summary = "An invoice was paid" if due == minor else "An invoice was partially paid"
    store.emit("INVOICING.INVOICE.PAID", rendered, summary=summary, base_url=base_url)
    return payment_id, rendered
