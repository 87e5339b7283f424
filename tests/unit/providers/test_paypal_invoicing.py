"""Invoices: created as drafts, sent, cancelled, read; numbers are unique at PayPal."""

from __future__ import annotations

import json

import pytest

from eventpay.domain import Money
from eventpay.ports import InvoiceDraft, InvoiceLine, ProviderRejected
from eventpay.providers.paypal import PayPalProvider

from .fake_paypal import FakePayPal

DRAFT = InvoiceDraft(
    invoice_number="SPONSOR-2026-001",
    recipient_email="sponsor@example.com",
    lines=(
        InvoiceLine("Gold sponsor package", 1, Money(150000, "usd")),
        InvoiceLine("Banner space", 3, Money(2500, "usd")),
    ),
    note="Thank you for supporting the Spring Sound-Off.",
    due_date="2026-04-30",
)


def test_create_send_and_cancel(fake: FakePayPal, provider: PayPalProvider) -> None:
    draft = provider.create_invoice(DRAFT, idempotency_key="inv-1")
    (request,) = fake.api_requests("POST", "/v2/invoicing/invoices")
    assert request.headers["paypal-request-id"] == "inv-1"
    body = json.loads(request.content)
    assert body["detail"] == {
        "invoice_number": "SPONSOR-2026-001",
        "currency_code": "USD",
        "note": "Thank you for supporting the Spring Sound-Off.",
        "payment_term": {"due_date": "2026-04-30"},
    }
    assert body["primary_recipients"] == [
        {"billing_info": {"email_address": "sponsor@example.com"}}
    ]
    assert body["items"][1] == {
        "name": "Banner space",
        "quantity": "3",
        "unit_amount": {"currency_code": "USD", "value": "25.00"},
        "unit_of_measure": "QUANTITY",
    }
    assert (draft.status, draft.invoice_number, draft.amount) == (
        "DRAFT",
        "SPONSOR-2026-001",
        Money(157500, "usd"),
    )

    sent = provider.send_invoice(draft.invoice_id, idempotency_key="inv-1-send")
    assert sent.status == "SENT"
    assert "payer-view" in sent.links

    cancelled = provider.cancel_invoice(draft.invoice_id, idempotency_key="inv-1-cancel")
    assert cancelled.status == "CANCELLED"
    assert provider.get_invoice(draft.invoice_id) == cancelled


def test_a_minimal_create_answer_is_followed_by_a_read(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    existing = provider.create_invoice(DRAFT, idempotency_key="inv-1")
    # PayPal's default answer is only the new invoice's link.
    href = f"https://api-m.sandbox.paypal.com/v2/invoicing/invoices/{existing.invoice_id}"
    fake.fail_next("POST", "/v2/invoicing/invoices", 201, {"href": href, "rel": "self"})
    invoice = provider.create_invoice(DRAFT, idempotency_key="inv-2")
    assert invoice == existing
    assert [r.method for r in fake.api_requests(path="/v2/invoicing")] == ["POST", "POST", "GET"]


def test_a_reused_invoice_number_is_rejected(fake: FakePayPal, provider: PayPalProvider) -> None:
    provider.create_invoice(DRAFT, idempotency_key="inv-1")
    with pytest.raises(ProviderRejected) as refused:
        provider.create_invoice(DRAFT, idempotency_key="inv-2")
    assert refused.value.code == "DUPLICATE_INVOICE_NUMBER"


def test_a_draft_cannot_be_cancelled(fake: FakePayPal, provider: PayPalProvider) -> None:
    draft = provider.create_invoice(DRAFT, idempotency_key="inv-1")
    with pytest.raises(ProviderRejected) as refused:
        provider.cancel_invoice(draft.invoice_id, idempotency_key="c-1")
    assert refused.value.code == "CANNOT_CANCEL_DRAFT_INVOICE"


@pytest.mark.parametrize(
    "lines",
    [
        (),
        (InvoiceLine("a", 1, Money(100, "usd")), InvoiceLine("b", 1, Money(100, "eur"))),
        (InvoiceLine("a", 0, Money(100, "usd")),),
    ],
)
def test_drafts_paypal_would_refuse_are_refused_before_any_call(
    fake: FakePayPal, provider: PayPalProvider, lines: tuple[InvoiceLine, ...]
) -> None:
    draft = InvoiceDraft(invoice_number="N-1", recipient_email="s@example.com", lines=lines)
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        provider.create_invoice(draft, idempotency_key="inv-9")
    assert fake.requests == []
