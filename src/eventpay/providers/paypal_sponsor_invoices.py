"""PayPal Invoicing v2 for sponsor packages: the invoice our `InvoiceProvider` adapter knows,
with part payments allowed and net terms as its due date, and what INVOICING.INVOICE.PAID says.

PayPal sends INVOICING.INVOICE.PAID for part payments too; its resource is the invoice as it
stands, with every payment so far under `payments.transactions` (each with its own
`payment_id`). Settlement records each of them once, so a repeated or late delivery, or one
that carries two payments at once, settles the same.

What must not live here: deciding anything about a sponsorship, storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventpay.ports import Invoice, InvoiceDraft
from eventpay.ports.sponsorships import InvoicePayment, SponsorInvoiceEvent
from eventpay.providers.paypal_http import PayPalApi, malformed, reading
from eventpay.providers.paypal_invoicing import INVOICES_PATH, invoice_from, invoice_request
from eventpay.providers.paypal_money import from_paypal

PAID_EVENT = "INVOICING.INVOICE.PAID"
_NOTIFY = {"send_to_recipient": True, "send_to_invoicer": False}


def sponsor_invoice_request(draft: InvoiceDraft) -> dict[str, Any]:
    body = invoice_request(draft)
    body["configuration"] = {"partial_payment": {"allow_partial_payment": True}}
    return body


class PayPalSponsorInvoices:
    def __init__(self, api: PayPalApi) -> None:
        self._api = api

    def issue_invoice(
        self, draft: InvoiceDraft, *, sponsorship_id: str, net_days: int, idempotency_key: str
    ) -> Invoice:
        del sponsorship_id, net_days  # the draft's invoice number and due date carry them
        created = self._api.call(
            "POST",
            INVOICES_PATH,
            json=sponsor_invoice_request(draft),
            request_id=f"{idempotency_key}:create",
            representation=True,
        )
        invoice_id = created.get("id")
        if not isinstance(invoice_id, str):
            raise malformed("invoice")
        self._api.call(
            "POST",
            f"{INVOICES_PATH}/{invoice_id}/send",
            json=_NOTIFY,
            request_id=f"{idempotency_key}:send",
        )
        answer = self._api.call("GET", f"{INVOICES_PATH}/{invoice_id}")
        with reading("invoice"):
            invoice = invoice_from(answer)
        view = (answer.get("detail") or {}).get("metadata", {}).get("recipient_view_url")
        if isinstance(view, str) and "payer-view" not in invoice.links:
            invoice.links["payer-view"] = view
        return invoice

    def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        self._api.call(
            "POST",
            f"{INVOICES_PATH}/{invoice_id}/cancel",
            json=_NOTIFY,
            request_id=idempotency_key,
        )

    def parse_invoice_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> SponsorInvoiceEvent | None:
        if event_type != PAID_EVENT:
            return None
        resource = payload.get("resource")
        if not isinstance(resource, Mapping) or not isinstance(resource.get("id"), str):
            raise malformed("invoice event")
        payments = resource.get("payments")
        transactions = payments.get("transactions") if isinstance(payments, Mapping) else None
        found: list[InvoicePayment] = []
        with reading("invoice payments"):
            for entry in transactions or ():
                found.append(InvoicePayment(str(entry["payment_id"]), from_paypal(entry["amount"])))
        detail = resource.get("detail")
        number = detail.get("invoice_number") if isinstance(detail, Mapping) else None
        return SponsorInvoiceEvent(
            provider_invoice_id=str(resource["id"]),
            payments=tuple(found),
            sponsorship_id=number if isinstance(number, str) and number.startswith("sp_") else None,
        )

    def is_invoice_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        del event_type, payload
        return False
