"""Stripe Invoices for sponsor packages: a Customer for the sponsor, an invoice sent for payment
(`collection_method=send_invoice`, `days_until_due` the net terms), one invoice item for the
package, finalized (which opens its hosted page and PaymentIntent) and sent.

The invoice's metadata names our sponsorship (`eventpay_sponsorship`), and so does its
PaymentIntent's, with the invoice's id (`eventpay_invoice`; written right after finalizing,
before the invoice is sent to anyone, so the charge inherits both). The intent's own
`payment_intent.succeeded` is the invoice's payment: keyed by its charge (`latest_charge`), the
id Stripe's balance lists the money under, so reconciliation finds it ours (`invoice.paid`
names no charge since API version 2025-03-31, only the invoice: recording the payment from it
would leave the charge unmatched). `invoice.paid` and `invoice.overdue` of such an invoice
settle nothing more than its status; invoices without the key (a membership's) are left alone.
What Stripe kept of the charge is read afterwards from its balance transaction (`payment_fee`).

What must not live here: deciding anything about a sponsorship, storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from eventpay.domain import Money
from eventpay.ports.capabilities import Invoice, InvoiceDraft
from eventpay.ports.sponsorships import InvoicePayment, SponsorInvoiceEvent
from eventpay.providers.stripe import _call, _copy
from eventpay.providers.stripe_currency import StripeUnitsError, from_stripe, to_stripe
from eventpay.providers.stripe_errors import malformed
from eventpay.providers.stripe_objects import id_of

SPONSORSHIP_KEY = "eventpay_sponsorship"
INVOICE_KEY = "eventpay_invoice"


def _event_object(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping):
        raise malformed("an event without its object")
    return obj


def _sponsorship_of(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata")
    found = metadata.get(SPONSORSHIP_KEY) if isinstance(metadata, Mapping) else None
    return found if isinstance(found, str) and found else None


def _intent_of(invoice: Mapping[str, Any]) -> str | None:
    payments = invoice.get("payments")
    data = payments.get("data") if isinstance(payments, Mapping) else None
    for entry in reversed(data or []):
        payment = entry.get("payment") if isinstance(entry, Mapping) else None
        if isinstance(payment, Mapping):
            found = id_of(payment.get("payment_intent"))
            if found:
                return found
    return None


def _charge_event(intent: Mapping[str, Any]) -> SponsorInvoiceEvent | None:
    """A sponsor invoice's PaymentIntent succeeded: its charge is the invoice's payment."""
    sponsorship_id = _sponsorship_of(intent)
    if sponsorship_id is None:
        return None
    charge_id = id_of(intent.get("latest_charge"))
    if not charge_id:
        raise malformed("a succeeded PaymentIntent without its charge")
    received = intent.get("amount_received")
    try:
        amount = from_stripe(
            intent.get("amount") if received is None else received, intent.get("currency")
        )
    except StripeUnitsError as exc:
        raise malformed(f"{intent.get('id')}: {exc}") from None
    metadata = intent.get("metadata")
    invoice_id = metadata.get(INVOICE_KEY) if isinstance(metadata, Mapping) else None
    return SponsorInvoiceEvent(
        str(invoice_id or ""),
        (InvoicePayment(charge_id, amount),),
        sponsorship_id=sponsorship_id,
    )


class StripeSponsorInvoices:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def issue_invoice(
        self, draft: InvoiceDraft, *, sponsorship_id: str, net_days: int, idempotency_key: str
    ) -> Invoice:
        if not draft.lines:
            raise ValueError("an invoice needs at least one line")
        currency = draft.lines[0].unit_amount.currency
        v1 = self._client.v1
        metadata = {SPONSORSHIP_KEY: sponsorship_id}
        customer = _call(
            lambda: v1.customers.create(
                params={"email": draft.recipient_email, "metadata": metadata},
                options={"idempotency_key": f"{idempotency_key}:customer"},
            )
        )
        params: dict[str, Any] = {
            "customer": str(customer["id"]),
            "collection_method": "send_invoice",
            "days_until_due": net_days,
            "metadata": {**metadata, "invoice_number": draft.invoice_number},
        }
        if draft.note:
            params["description"] = draft.note[:500]
        invoice = _call(
            lambda: v1.invoices.create(
                params=_copy(params), options={"idempotency_key": f"{idempotency_key}:invoice"}
            )
        )
        invoice_id = str(invoice["id"])
        for index, line in enumerate(draft.lines):
            item = {
                "customer": str(customer["id"]),
                "invoice": invoice_id,
                "amount": to_stripe(line.unit_amount) * line.quantity,
                "currency": currency.lower(),
                "description": line.name[:200],
                "metadata": metadata,
            }
            self._add_item(item, f"{idempotency_key}:item:{index}")
        final = _call(
            lambda: v1.invoices.finalize_invoice(
                invoice_id,
                params={"expand": ["payments"]},
                options={"idempotency_key": f"{idempotency_key}:finalize"},
            )
        )
        intent_id = _intent_of(final)
        if intent_id is not None:
            _call(
                lambda: v1.payment_intents.update(
                    intent_id,
                    params={"metadata": {**metadata, INVOICE_KEY: invoice_id}},
                    options={"idempotency_key": f"{idempotency_key}:intent"},
                )
            )
        sent = _call(
            lambda: v1.invoices.send_invoice(
                invoice_id, options={"idempotency_key": f"{idempotency_key}:send"}
            )
        )
        url = sent.get("hosted_invoice_url") or final.get("hosted_invoice_url")
        return Invoice(
            invoice_id=invoice_id,
            invoice_number=str(sent.get("number") or draft.invoice_number),
            status=str(sent.get("status", "open")).upper(),
            amount=from_stripe(int(sent.get("amount_due") or 0), currency),
            links={"payer-view": str(url)} if url else {},
        )

    def _add_item(self, params: dict[str, Any], key: str) -> None:
        _call(
            lambda: self._client.v1.invoice_items.create(
                params=_copy(params), options={"idempotency_key": key}
            )
        )

    def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        _call(
            lambda: self._client.v1.invoices.void_invoice(
                invoice_id, options={"idempotency_key": idempotency_key}
            )
        )

    def parse_invoice_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> SponsorInvoiceEvent | None:
        if event_type == "payment_intent.succeeded":
            return _charge_event(_event_object(payload))
        if event_type not in ("invoice.paid", "invoice.overdue"):
            return None
        invoice = _event_object(payload)
        sponsorship_id = _sponsorship_of(invoice)
        if sponsorship_id is None:
            return None
        invoice_id = str(invoice.get("id") or "")
        if not invoice_id:
            raise malformed("an invoice without its id")
        return SponsorInvoiceEvent(
            invoice_id, overdue=event_type == "invoice.overdue", sponsorship_id=sponsorship_id
        )

    def payment_fee(self, payment_ref: str) -> Money | None:
        """Stripe's fee on a sponsor's charge, from its balance transaction; None while there
        is none, or when the balance settled in another currency than the charge."""
        charge = _call(
            lambda: self._client.v1.charges.retrieve(
                payment_ref, params={"expand": ["balance_transaction"]}
            )
        )
        transaction = charge.get("balance_transaction")
        if not isinstance(transaction, Mapping) or transaction.get("fee") is None:
            return None
        currency = str(charge.get("currency") or "").lower()
        if str(transaction.get("currency") or "").lower() != currency:
            return None
        try:
            return from_stripe(transaction["fee"], currency)
        except StripeUnitsError as exc:
            raise malformed(f"{payment_ref} fee: {exc}") from None

    def is_invoice_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        if not event_type.startswith("payment_intent."):
            return False
        return _sponsorship_of(_event_object(payload)) is not None
