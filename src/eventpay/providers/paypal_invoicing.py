"""PayPal Invoicing v2: invoices for sponsor packages (`InvoiceProvider`).

An invoice is created as a DRAFT (`POST /v2/invoicing/invoices`, asking for the full
representation back), then sent (`.../send`: PayPal e-mails the recipient and the status
becomes SENT, or SCHEDULED for a future invoice date) or cancelled (`.../cancel`). Send and
cancel answer with a link or nothing at all, so the invoice is read again afterwards and
returned as it now stands. Our invoice number is PayPal's `invoice_number`, which PayPal keeps
unique: reusing one is refused (`DUPLICATE_INVOICE_NUMBER`).

Paid, refunded and cancelled invoices are reported by PayPal's INVOICING.INVOICE.* events;
the core handles those, this module only returns what PayPal says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventpay.domain import Money
from eventpay.ports import Invoice, InvoiceDraft
from eventpay.providers.paypal_http import PayPalApi, reading
from eventpay.providers.paypal_money import from_paypal, to_paypal

__all__ = ["PayPalInvoicing", "invoice_from", "invoice_request"]

INVOICES_PATH = "/v2/invoicing/invoices"
_NOTIFY = {"send_to_recipient": True, "send_to_invoicer": False}


def invoice_request(draft: InvoiceDraft) -> dict[str, Any]:
    if not draft.lines:
        raise ValueError("an invoice needs at least one line")
    currency = draft.lines[0].unit_amount.currency
    if any(line.unit_amount.currency != currency for line in draft.lines):
        raise ValueError("every invoice line must be in the same currency")
    if any(line.quantity < 1 or not line.unit_amount.is_positive() for line in draft.lines):
        raise ValueError("invoice lines need a positive quantity and amount")
    detail: dict[str, Any] = {
        "invoice_number": draft.invoice_number,
        "currency_code": currency.upper(),
    }
    if draft.note:
        detail["note"] = draft.note[:4000]
    if draft.due_date:
        detail["payment_term"] = {"due_date": draft.due_date}
    return {
        "detail": detail,
        "primary_recipients": [{"billing_info": {"email_address": draft.recipient_email}}],
        "items": [
            {
                "name": line.name[:200],
                "quantity": str(line.quantity),
                "unit_amount": to_paypal(line.unit_amount),
                "unit_of_measure": "QUANTITY",
            }
            for line in draft.lines
        ],
    }


def _total_of_items(invoice: Mapping[str, Any]) -> Money:
    items = invoice["items"]
    total = Money.zero(str(invoice["detail"]["currency_code"]))
    for item in items:
        total = total + from_paypal(item["unit_amount"]) * int(item["quantity"])
    return total


def invoice_from(invoice: Mapping[str, Any]) -> Invoice:
    amount = invoice.get("amount")
    links = {
        str(link["rel"]): str(link["href"])
        for link in invoice.get("links") or ()
        if isinstance(link, Mapping) and link.get("rel") and link.get("href")
    }
    return Invoice(
        invoice_id=str(invoice["id"]),
        invoice_number=str(invoice["detail"]["invoice_number"]),
        status=str(invoice.get("status", "DRAFT")),
        # PayPal always totals the invoice; the items' sum only covers a minimal answer.
        amount=from_paypal(amount) if isinstance(amount, Mapping) else _total_of_items(invoice),
        links=links,
    )


def _id_from_link(answer: Mapping[str, Any]) -> str | None:
    href = answer.get("href")
    if isinstance(href, str) and INVOICES_PATH + "/" in href:
        return href.split(INVOICES_PATH + "/", 1)[1].split("/")[0].split("?")[0] or None
    return None


class PayPalInvoicing:
    def __init__(self, api: PayPalApi) -> None:
        self._api = api

    def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice:
        answer = self._api.call(
            "POST",
            INVOICES_PATH,
            json=invoice_request(draft),
            request_id=idempotency_key,
            representation=True,
        )
        if "id" not in answer:
            # A minimal answer is just the new invoice's link (PayPal's default).
            invoice_id = _id_from_link(answer)
            if invoice_id is not None:
                return self.get_invoice(invoice_id)
        with reading("invoice"):
            return invoice_from(answer)

    def send_invoice(self, invoice_id: str, *, idempotency_key: str) -> Invoice:
        self._api.call(
            "POST", f"{INVOICES_PATH}/{invoice_id}/send", json=_NOTIFY, request_id=idempotency_key
        )
        return self.get_invoice(invoice_id)

    def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> Invoice:
        self._api.call(
            "POST",
            f"{INVOICES_PATH}/{invoice_id}/cancel",
            json=_NOTIFY,
            request_id=idempotency_key,
        )
        return self.get_invoice(invoice_id)

    def get_invoice(self, invoice_id: str) -> Invoice:
        answer = self._api.call("GET", f"{INVOICES_PATH}/{invoice_id}")
        with reading("invoice"):
            return invoice_from(answer)
