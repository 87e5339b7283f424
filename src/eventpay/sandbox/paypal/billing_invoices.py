"""Getting invoices paid: the recipient's payer page, recorded payments, lists and searches.

- `GET /invoice/p/{id}` (the invoice's `metadata.recipient_view_url`): what is due, when, and a
  Pay form (`id="amount"`, `id="pay"`); `POST /invoice/p/{id}/pay` (form field `amount`, the
  whole balance when empty) pays as the test buyer with PayPal: PARTIALLY_PAID or PAID, a
  PAYPAL transaction in `payments.transactions`, INVOICING.INVOICE.PAID. Part payments follow
  the invoice's `configuration.partial_payment` (invoices.pay).
- `POST /_sandbox/invoices/{id}/recipient-payments` `{"amount"?: money}`: the same, as JSON.
- `POST /v2/invoicing/invoices/{id}/payments` (`payment_detail`: method, amount?, payment_date?,
  note?): the merchant records a payment received elsewhere (type EXTERNAL) → 200
  `{payment_id}`; the last of the balance makes the invoice MARKED_AS_PAID. Errors as the
  specification enumerates them: INVALID_PAYMENT_METHOD, VALUE_CANNOT_BE_ZERO (400),
  PAYMENT_AMOUNT_GREATER_THAN_AMOUNT_DUE, CANNOT_PROCESS_PAYMENTS (422).
- `GET /v2/invoicing/invoices` (page, page_size, total_required) and
  `POST /v2/invoicing/search-invoices` (`search_data`: status, due_date_range, invoice_date_range,
  invoice_number, currency_code, recipient_email): Invoicing v2 has no "overdue" status, so an
  overdue list is a search for SENT, UNPAID and PARTIALLY_PAID invoices due before today.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import identifiers, invoices, money
from .errors import INVOICING, InvalidRequest, Issue, PayPalError, UnprocessableEntity, invalid
from .gateway import Call, Reply
from .records import JSON
from .store import Store

METHODS = (
    "BANK_TRANSFER",
    "CASH",
    "CHECK",
    "CREDIT_CARD",
    "DEBIT_CARD",
    "PAYPAL",
    "WIRE_TRANSFER",
    "OTHER",
)
# Descriptions as the specification's `invoices.payments-400` / `-422` enumerate them.
_PAYMENT_ISSUES = {
    "MISSING_METHOD": "Payment method is missing. Please provide a valid payment method.",
    "INVALID_PAYMENT_METHOD": "The value provided is not an acceptable method of payment.",
    "INVALID_PARAMETER_SYNTAX": "Amount value is invalid. Should be a numeric value.",
    "VALUE_CANNOT_BE_ZERO": "Payment amount cannot be zero. Please provide a valid amount.",
    "PAYMENT_AMOUNT_GREATER_THAN_AMOUNT_DUE": "Payment amount is greater than the amount due.",
    "CANNOT_PROCESS_PAYMENTS": "Current invoice state does not support payment processing.",
}
_SEARCH_SYNTAX = "the value of a field does not conform to the expected format."


def _issue(issue: str, field: str) -> Issue:
    code = "MISSING_REQUIRED_PARAMETER" if issue == "MISSING_METHOD" else issue
    return Issue(code, field=field, description=_PAYMENT_ISSUES[issue])


def record_payment(store: Store, call: Call) -> Reply:
    invoice = store.invoice(call.path("id"))
    body = call.body
    method = body.get("method")
    if method is None:
        raise InvalidRequest(_issue("MISSING_METHOD", "/method"))
    if method not in METHODS:
        raise InvalidRequest(_issue("INVALID_PAYMENT_METHOD", "/method"))
    if invoice["status"] not in invoices.PAYABLE:
        raise UnprocessableEntity(_issue("CANNOT_PROCESS_PAYMENTS", "/status"))
    currency = invoice["due_amount"]["currency_code"]
    due = money.parse(invoice["due_amount"]["value"], currency)
    minor = due
    if "amount" in body:
        amount = body["amount"]
        try:
            if not isinstance(amount, dict) or amount.get("currency_code") != currency:
                raise money.MoneyProblem("INVALID_PARAMETER_SYNTAX", "not this currency")
            minor = money.parse(amount.get("value"), currency)
        except money.MoneyProblem as exc:
            raise InvalidRequest(_issue("INVALID_PARAMETER_SYNTAX", "/amount/value")) from exc
        if minor <= 0:
            raise InvalidRequest(_issue("VALUE_CANNOT_BE_ZERO", "/amount/value"))
        if minor > due:
            raise UnprocessableEntity(_issue("PAYMENT_AMOUNT_GREATER_THAN_AMOUNT_DUE", "/amount"))
    payment_date = body.get("payment_date")
    if payment_date is not None:
        try:
            date.fromisoformat(str(payment_date))
        except ValueError as exc:
            raise invalid("/payment_date", payment_date, "INVALID_PARAMETER_SYNTAX") from exc
    note = body.get("note") if isinstance(body.get("note"), str) else None
    payment_id, _ = invoices.apply_payment(
        store,
        invoice,
        minor,
        method=method,
        base_url=call.base_url,
        external=True,
        payment_date=payment_date,
        note=note,
    )
    return Reply(200, {"payment_id": payment_id})


def list_invoices(store: Store, call: Call) -> Reply:
    return Reply(200, _page(list(store.state.invoices.values()), call, "/v2/invoicing/invoices"))


def search_invoices(store: Store, call: Call) -> Reply:
    body = call.body
    chosen = list(store.state.invoices.values())
    statuses = body.get("status")
    if statuses is not None:
        if not isinstance(statuses, list) or len(statuses) > 5:
            raise InvalidRequest(Issue("INVALID_ARRAY_MAX_ITEMS", field="/status"))
        chosen = [i for i in chosen if i["status"] in statuses]
    for key, field in (("due_date_range", "due_date"), ("invoice_date_range", "invoice_date")):
        if key in body:
            start, end = _date_range(body[key], key)
            chosen = [i for i in chosen if _within(_date_of(i, field), start, end)]
    for key in ("invoice_number", "currency_code"):
        if key in body:
            chosen = [i for i in chosen if i["detail"].get(key) == body[key]]
    if "recipient_email" in body:
        chosen = [i for i in chosen if body["recipient_email"] in _recipient_emails(i)]
    return Reply(200, _page(chosen, call, "/v2/invoicing/search-invoices"))


def _date_range(raw: Any, key: str) -> tuple[date, date]:
    try:
        return date.fromisoformat(raw["start"]), date.fromisoformat(raw["end"])
    except (TypeError, KeyError, ValueError) as exc:
        issue = Issue("INVALID_PARAMETER_SYNTAX", field=f"/{key}", description=_SEARCH_SYNTAX)
        raise InvalidRequest(issue) from exc


def _date_of(invoice: JSON, field: str) -> date | None:
    detail = invoice["detail"]
    raw = detail.get("payment_term", {}).get("due_date") if field == "due_date" else detail[field]
    return None if raw is None else date.fromisoformat(raw)


def _within(value: date | None, start: date, end: date) -> bool:
    return value is not None and start <= value <= end


def _recipient_emails(invoice: JSON) -> set[str]:
    return {
        str(r.get("billing_info", {}).get("email_address"))
        for r in invoice.get("primary_recipients", [])
    }


def _page(items: list[JSON], call: Call, path: str) -> JSON:
    try:
        size = min(100, max(1, int(call.query.get("page_size", "20"))))
        page = min(1000, max(1, int(call.query.get("page", "1"))))
    except ValueError as exc:
        raise invalid("page", None, "INVALID_PARAMETER_SYNTAX") from exc
    shown = items[(page - 1) * size : page * size]
    out: JSON = {"items": [invoices.render(i, call.base_url) for i in shown]}
    if call.query.get("total_required", "false").lower() == "true":
        out.update(total_items=len(items), total_pages=max(1, -(-len(items) // size)))
    out["links"] = [
        {
            "href": f"{call.base_url}{path}?page={page}&page_size={size}",
            "rel": "self",
            "method": "GET",
        }
    ]
    return out


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PayPal sandbox invoice</title>
<style>body{{font-family:sans-serif;max-width:34rem;margin:3rem auto}}</style></head>
<body><h1>PayPal sandbox invoice</h1>
<p>eventpay's PayPal emulator: no real account or money is involved.</p>
{body}
</body></html>
"""


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _summary(invoice: JSON) -> str:
    detail = invoice["detail"]
    due = invoice["due_amount"]
    due_date = detail.get("payment_term", {}).get("due_date")
    return (
        f'<p>Invoice <strong id="number">{escape(detail["invoice_number"])}</strong>, '
        f'status <span id="status">{escape(invoice["status"])}</span>.</p>'
        f'<p>Amount due: <strong id="due">{escape(due["value"])} '
        f"{escape(due['currency_code'])}</strong>"
        f"{' by ' + escape(due_date) if due_date else ''}.</p>"
    )


def invoice_payer_routes(store: Store) -> list[Route]:
    """The recipient's payer page and its JSON twin, bound to the app's store."""

    def pay(invoice_id: str, raw_value: str | None, base: str) -> JSON:
        invoice = store.invoice(invoice_id)
        currency = invoice["due_amount"]["currency_code"]
        minor = None
        if raw_value:
            try:
                minor = money.parse(raw_value, currency)
            except money.MoneyProblem as exc:
                raise invalid("amount", raw_value) from exc
            if minor <= 0 or minor > money.parse(invoice["due_amount"]["value"], currency):
                raise invalid("amount", raw_value)
        return invoices.pay(store, invoice_id, base, minor)

    async def show(request: Request) -> Response:
        invoice_id = str(request.path_params["id"])
        with store.lock:
            invoice = copy.deepcopy(store.state.invoices.get(invoice_id))
        if invoice is None or invoice["status"] == "DRAFT":
            return _html(f"<p>No such invoice: {escape(invoice_id)}</p>", 404)
        form = ""
        if invoice["status"] in invoices.PAYABLE:
            due = escape(invoice["due_amount"]["value"])
            form = (
                f'<form method="post" action="/invoice/p/{escape(invoice_id)}/pay">'
                f'<input id="amount" name="amount" value="{due}">'
                ' <button type="submit" id="pay">Pay with PayPal</button></form>'
            )
        return _html(_summary(invoice) + form)

    async def pay_form(request: Request) -> Response:
        invoice_id = str(request.path_params["id"])
        async with request.form() as form:
            raw = form.get("amount")
        value = raw.strip() if isinstance(raw, str) else None
        try:
            with store.lock:
                pay(invoice_id, value, str(request.base_url).rstrip("/"))
        except PayPalError as exc:
            return _html(f"<p>{escape(exc.name)}: {escape(str(exc))}</p>", exc.status)
        return RedirectResponse(f"/invoice/p/{invoice_id}", status_code=303)

    async def pay_json(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
            amount = body.get("amount")
            value = amount.get("value") if isinstance(amount, dict) else None
            with store.lock:
                paid = pay(str(request.path_params["id"]), value, str(request.base_url).rstrip("/"))
        except (ValueError, AttributeError):
            error: PayPalError = InvalidRequest(Issue("MALFORMED_REQUEST_JSON"))
            return JSONResponse(error.body(identifiers.debug_id(), INVOICING), error.status)
        except PayPalError as exc:
            return JSONResponse(exc.body(identifiers.debug_id(), INVOICING), exc.status)
        return JSONResponse(paid)

    endpoints: list[tuple[str, Callable[[Request], Any], str]] = [
        ("/invoice/p/{id}", show, "GET"),
        ("/invoice/p/{id}/pay", pay_form, "POST"),
        ("/_sandbox/invoices/{id}/recipient-payments", pay_json, "POST"),
    ]
    return [Route(path, endpoint, methods=[method]) for path, endpoint, method in endpoints]
