"""Reading Stripe's events about sponsor invoices: the invoice's PaymentIntent succeeding is the
sponsor's payment, keyed by its charge (the id Stripe's balance lists the money under); the
invoice's own events say only that it is paid or overdue; events of other invoices and intents
are not a sponsor's."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from eventpay.domain import Money
from eventpay.ports.providers import ProviderOutcomeUnknown
from eventpay.ports.sponsorships import InvoicePayment, SponsorInvoiceEvent
from eventpay.providers.stripe_invoicing import StripeSponsorInvoices

GATEWAY = StripeSponsorInvoices(stripe.StripeClient("sk_test_unused"))


def _event(obj: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"object": obj}}


def _intent(**changes: Any) -> dict[str, Any]:
    intent: dict[str, Any] = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 25_000,
        "amount_received": 25_000,
        "currency": "usd",
        "latest_charge": "ch_1",
        "metadata": {"eventpay_sponsorship": "sp_1", "eventpay_invoice": "in_1"},
    }
    intent.update(changes)
    return intent


def test_a_sponsor_intents_success_is_the_payment_of_its_charge() -> None:
    parsed = GATEWAY.parse_invoice_event("payment_intent.succeeded", _event(_intent()))
    assert parsed == SponsorInvoiceEvent(
        "in_1", (InvoicePayment("ch_1", Money(25_000, "usd")),), sponsorship_id="sp_1"
    )
    expanded = _intent(
        latest_charge={"id": "ch_1", "object": "charge"}, metadata={"eventpay_sponsorship": "sp_1"}
    )
    older = GATEWAY.parse_invoice_event("payment_intent.succeeded", _event(expanded))
    assert older is not None
    assert (older.provider_invoice_id, older.payments[0].payment_ref) == ("", "ch_1")


def test_other_intents_and_invoices_are_not_a_sponsors() -> None:
    plain = _intent(metadata={"payment_id": "pay_1"})
    assert GATEWAY.parse_invoice_event("payment_intent.succeeded", _event(plain)) is None
    invoice = {"id": "in_2", "object": "invoice", "amount_paid": 2900, "currency": "usd"}
    assert GATEWAY.parse_invoice_event("invoice.paid", _event(invoice)) is None
    assert GATEWAY.parse_invoice_event("payment_intent.payment_failed", _event(_intent())) is None


def test_the_invoices_own_events_carry_no_payment() -> None:
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "amount_paid": 25_000,
        "currency": "usd",
        "metadata": {"eventpay_sponsorship": "sp_1"},
    }
    paid = GATEWAY.parse_invoice_event("invoice.paid", _event(invoice))
    overdue = GATEWAY.parse_invoice_event("invoice.overdue", _event(invoice))
    assert paid == SponsorInvoiceEvent("in_1", sponsorship_id="sp_1")
    assert overdue == SponsorInvoiceEvent("in_1", overdue=True, sponsorship_id="sp_1")


def test_a_succeeded_sponsor_intent_without_its_charge_is_malformed() -> None:
    with pytest.raises(ProviderOutcomeUnknown):
        GATEWAY.parse_invoice_event("payment_intent.succeeded", _event(_intent(latest_charge=None)))
