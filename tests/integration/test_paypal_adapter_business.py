"""The PayPal adapter's payouts, disputes and invoices over HTTP against the PayPal sandbox."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from eventpay.domain import Money
from eventpay.ports import (
    Capabilities,
    CreatePayment,
    InvoiceDraft,
    InvoiceLine,
    PayoutItem,
    ProviderRejected,
    RefundRequest,
)
from eventpay.ports.capabilities import InvoiceProvider, PayoutProvider
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_payout_events import (
    PayoutBatchUpdate,
    PayoutItemUpdate,
    PayoutOutcome,
    parse_payout_event,
)
from eventpay.providers.paypal_payouts import DuplicatePayoutBatch, PayPalPayouts, payout_request
from eventpay.providers.paypal_reporting import PayPalReporting, TransactionKind
from eventpay.sandbox.paypal import BackgroundServer, create_app

CLIENT_ID = "eventpay-business-test"
CLIENT_SECRET = "business-test-secret"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    app = create_app(environment="test", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with BackgroundServer(app) as server:
        yield server.base_url
        counts = httpx.get(f"{server.base_url}/_sandbox/idempotency", timeout=5.0).json()
        assert counts["mismatched_replays"] == 0  # no request id reused for another request


@pytest.fixture
def paypal(sandbox_url: str) -> Iterator[PayPalProvider]:
    provider = PayPalProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=sandbox_url, timeout_s=5.0
    )
    yield provider
    provider.close()


def control(sandbox_url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(f"{sandbox_url}{path}", json=body or {}, timeout=5.0)
    assert response.status_code < 300, response.text
    answer: dict[str, Any] = response.json()
    return answer


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- payouts ------------------------------------------------------------------------------------

ITEMS = (
    PayoutItem("item-1", "organizer@example.com", Money(12050, "usd"), note="Spring event"),
    PayoutItem("item-2", "nobody@unknown.example.com", Money(999, "usd")),
)


def test_a_payout_batch_settles_with_an_unclaimed_item(
    sandbox_url: str, paypal: PayPalProvider
) -> None:
    batch_id = new_id("batch")
    created = paypal.create_payout(batch_id=batch_id, items=ITEMS, email_subject="Your payout")
    assert (created.batch_id, created.status) == (batch_id, "PENDING")
    retried = paypal.create_payout(batch_id=batch_id, items=ITEMS, email_subject="Your payout")
    assert retried == created

    control(sandbox_url, f"/_sandbox/payouts/{created.provider_batch_id}/process")
    settled = paypal.get_payout(created.provider_batch_id)
    assert settled.status == "SUCCESS"
    assert {(i.item_id, i.status, i.amount) for i in settled.items} == {
        ("item-1", "SUCCESS", Money(12050, "usd")),
        ("item-2", "UNCLAIMED", Money(999, "usd")),
    }
    assert all(i.provider_item_id for i in settled.items)


def test_a_batch_id_used_before_is_a_duplicate(paypal: PayPalProvider) -> None:
    batch_id = new_id("batch")
    # An earlier request for the same batch, under a request id PayPal no longer connects
    # to ours (another process, or after the request id expired).
    body = payout_request(batch_id=batch_id, items=ITEMS, email_subject="Earlier")
    earlier = paypal.api.call("POST", "/v1/payments/payouts", json=body, request_id="earlier")
    with pytest.raises(DuplicatePayoutBatch) as duplicate:
        paypal.create_payout(batch_id=batch_id, items=ITEMS, email_subject="Your payout")
    assert duplicate.value.code == "duplicate_batch"
    assert duplicate.value.provider_batch_id == earlier["batch_header"]["payout_batch_id"]


# -- disputes -----------------------------------------------------------------------------------


def captured(sandbox_url: str, paypal: PayPalProvider, amount: Money) -> str:
    payment_id = str(uuid.uuid4())
    order_id = paypal.create_payment(
        CreatePayment(
            payment_id=payment_id,
            order_id="order-d",
            amount=amount,
            idempotency_key=f"eventpay-payment-{payment_id}",
            description="Car Audio Events order",
            metadata={},
        )
    ).provider_ref
    control(sandbox_url, f"/_sandbox/orders/{order_id}/approve")
    capture_id = paypal.capture_payment(order_id, idempotency_key=f"c-{payment_id}").capture_id
    assert capture_id is not None
    return capture_id


def test_disputes_are_read_and_answered(sandbox_url: str, paypal: PayPalProvider) -> None:
    capture_id = captured(sandbox_url, paypal, Money(4500, "usd"))
    opened = control(sandbox_url, "/_sandbox/disputes", {"capture_id": capture_id})
    dispute_id = opened["dispute_id"]

    assert dispute_id in {d.dispute_id for d in paypal.list_disputes()}
    dispute = paypal.get_dispute(dispute_id)
    assert dispute.capture_id == capture_id
    assert dispute.amount == Money(4500, "usd")
    assert dispute.status == "WAITING_FOR_SELLER_RESPONSE"
    assert dispute.created_at is not None

    answered = paypal.provide_evidence(
        dispute_id, note="The competitor attended; results sheet attached.", idempotency_key="e1"
    )
    assert answered.status == "UNDER_REVIEW"

    second = control(sandbox_url, "/_sandbox/disputes", {"capture_id": capture_id})
    accepted = paypal.accept_claim(
        second["dispute_id"], note="Refunding the buyer.", idempotency_key="a1"
    )
    assert (accepted.status, accepted.outcome) == ("RESOLVED", "RESOLVED_BUYER_FAVOUR")

    with pytest.raises(ProviderRejected):  # resolved: there is nothing left to answer
        paypal.provide_evidence(second["dispute_id"], note="Too late.", idempotency_key="e2")


# -- invoices -----------------------------------------------------------------------------------


def draft(number: str) -> InvoiceDraft:
    return InvoiceDraft(
        invoice_number=number,
        recipient_email="sponsor@example.com",
        lines=(
            InvoiceLine("Gold sponsor package", 1, Money(150000, "usd")),
            InvoiceLine("Banner space", 3, Money(2500, "usd")),
        ),
        note="Thank you for supporting the Spring Sound-Off.",
        due_date="2030-04-30",
    )


def test_an_invoice_is_drafted_sent_and_paid(sandbox_url: str, paypal: PayPalProvider) -> None:
    number = new_id("SP")
    invoice = paypal.create_invoice(draft(number), idempotency_key=f"create-{number}")
    assert (invoice.status, invoice.invoice_number, invoice.amount) == (
        "DRAFT",
        number,
        Money(157500, "usd"),
    )
    sent = paypal.send_invoice(invoice.invoice_id, idempotency_key=f"send-{number}")
    assert sent.status == "SENT"
    control(sandbox_url, f"/_sandbox/invoices/{invoice.invoice_id}/pay")
    assert paypal.get_invoice(invoice.invoice_id).status == "PAID"


def test_a_sent_invoice_can_be_cancelled(paypal: PayPalProvider) -> None:
    number = new_id("SP")
    invoice = paypal.create_invoice(draft(number), idempotency_key=f"create-{number}")
    paypal.send_invoice(invoice.invoice_id, idempotency_key=f"send-{number}")
    cancelled = paypal.cancel_invoice(invoice.invoice_id, idempotency_key=f"cancel-{number}")
    assert cancelled.status == "CANCELLED"


def test_an_invoice_number_is_used_once(paypal: PayPalProvider) -> None:
    number = new_id("SP")
    paypal.create_invoice(draft(number), idempotency_key=f"create-{number}")
    with pytest.raises(ProviderRejected) as refused:
        paypal.create_invoice(draft(number), idempotency_key=f"again-{number}")
    assert refused.value.code == "DUPLICATE_INVOICE_NUMBER"


# -- capabilities -------------------------------------------------------------------------------


def _partial_refund(sandbox_url: str, paypal: PayPalProvider) -> None:
    capture_id = captured(sandbox_url, paypal, Money(4500, "usd"))
    refund_id = new_id("refund")
    refunded = paypal.refund_payment(
        RefundRequest(refund_id, "unused-order-ref", capture_id, Money(1000, "usd"), refund_id, "")
    )
    assert (refunded.amount, refunded.refund_id_hint) == (Money(1000, "usd"), refund_id)


def _reconciliation(sandbox_url: str, paypal: PayPalProvider) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    capture_id = captured(sandbox_url, paypal, Money(3000, "usd"))
    refund_id = new_id("refund")
    refunded = paypal.refund_payment(
        RefundRequest(refund_id, "unused-order-ref", capture_id, Money(700, "usd"), refund_id, "")
    )
    listed = {
        m.ref: m
        for m in paypal.movements(since=since, until=datetime.now(UTC) + timedelta(minutes=1))
    }
    payment = listed[capture_id]
    assert (payment.kind, payment.amount) == ("payment", Money(3000, "usd"))
    assert payment.fee is not None
    assert payment.fee.is_positive()  # what PayPal kept, from our side
    refund = listed[refunded.provider_refund_id]
    assert (refund.kind, refund.amount) == ("refund", Money(-700, "usd"))


def _payouts(sandbox_url: str, paypal: PayoutProvider) -> None:
    created = paypal.create_payout(batch_id=new_id("batch"), items=ITEMS, email_subject="Payout")
    assert paypal.get_payout(created.provider_batch_id).provider_batch_id == (
        created.provider_batch_id
    )


def _disputes(sandbox_url: str, paypal: PayPalProvider) -> None:
    capture_id = captured(sandbox_url, paypal, Money(2000, "eur"))
    dispute_id = control(sandbox_url, "/_sandbox/disputes", {"capture_id": capture_id})[
        "dispute_id"
    ]
    assert dispute_id in {d.dispute_id for d in paypal.list_disputes()}
    assert paypal.get_dispute(dispute_id).amount == Money(2000, "eur")
    paypal.provide_evidence(dispute_id, note="Attended.", idempotency_key=new_id("evidence"))
    other = control(sandbox_url, "/_sandbox/disputes", {"capture_id": capture_id})["dispute_id"]
    accepted = paypal.accept_claim(other, note="Refund.", idempotency_key=new_id("accept"))
    assert accepted.status == "RESOLVED"


def _invoicing(sandbox_url: str, paypal: InvoiceProvider) -> None:
    number = new_id("SP")
    invoice = paypal.create_invoice(draft(number), idempotency_key=f"create-{number}")
    paypal.send_invoice(invoice.invoice_id, idempotency_key=f"send-{number}")
    paypal.cancel_invoice(invoice.invoice_id, idempotency_key=f"cancel-{number}")
    assert paypal.get_invoice(invoice.invoice_id).status == "CANCELLED"


# Every flag PayPalProvider may declare, with the calls that prove it. A new flag without an
# entry here fails the test below: a capability is declared only once it is exercised.
CAPABILITY_CHECKS = {
    "partial_refund": _partial_refund,
    "payouts": _payouts,
    "disputes": _disputes,
    "invoicing": _invoicing,
    "reconciliation": _reconciliation,
}
NOT_DECLARED = {"client_confirmation", "payment_lookup", "connect"}


def test_every_declared_capability_works_against_the_sandbox(
    sandbox_url: str, paypal: PayPalProvider
) -> None:
    flags = {
        f.name: getattr(paypal.capabilities, f.name)
        for f in dataclasses.fields(Capabilities)
        if isinstance(getattr(paypal.capabilities, f.name), bool)
    }
    declared = {name for name, on in flags.items() if on}
    assert declared == set(CAPABILITY_CHECKS)
    assert set(flags) - declared == NOT_DECLARED
    for name in sorted(declared):
        CAPABILITY_CHECKS[name](sandbox_url, paypal)
    # What is not declared is not done: no browser-side confirmation, no lookup by our id.
    assert paypal.find_payment(payment_id=str(uuid.uuid4())) is None


# -- payout items, payout webhooks and transaction search ---------------------------------------


def test_payout_items_are_read_and_their_webhooks_parsed(
    sandbox_url: str, paypal: PayPalProvider
) -> None:
    items = (
        PayoutItem("paid", "organizer@example.com", Money(5000, "usd")),
        PayoutItem("later", "unclaimed@example.com", Money(2500, "usd")),
        PayoutItem("locked", "failed@example.com", Money(1000, "usd")),
    )
    created = paypal.create_payout(batch_id=new_id("batch"), items=items, email_subject="Payout")
    control(sandbox_url, f"/_sandbox/payouts/{created.provider_batch_id}/process")
    by_id = {i.item_id: i for i in paypal.get_payout(created.provider_batch_id).items}
    payouts = PayPalPayouts(paypal.api)

    read = {key: payouts.get_payout_item(str(i.provider_item_id)) for key, i in by_id.items()}
    assert {k: (u.status, u.outcome) for k, u in read.items()} == {
        "paid": ("SUCCESS", PayoutOutcome.PAID),
        "later": ("UNCLAIMED", PayoutOutcome.UNCLAIMED),
        "locked": ("FAILED", PayoutOutcome.FAILED),
    }
    assert read["later"].reason == "RECEIVER_UNREGISTERED"
    assert read["paid"].fee == Money(100, "usd")  # the sandbox's 2 % payout fee
    assert read["locked"].transaction_id is None

    unclaimed = str(by_id["later"].provider_item_id)
    control(sandbox_url, f"/_sandbox/payouts-item/{unclaimed}/return")
    assert payouts.get_payout_item(unclaimed).outcome is PayoutOutcome.RETURNED

    events = httpx.get(f"{sandbox_url}/_sandbox/events", timeout=5.0).json()["data"]
    updates = [parse_payout_event(e["event_type"], e) for e in reversed(events)]
    mine = [
        u
        for u in updates
        if isinstance(u, PayoutItemUpdate) and u.provider_batch_id == created.provider_batch_id
    ]
    assert [(u.item_id, u.outcome) for u in mine] == [
        ("paid", PayoutOutcome.PAID),
        ("later", PayoutOutcome.UNCLAIMED),
        ("locked", PayoutOutcome.FAILED),
        ("later", PayoutOutcome.RETURNED),
    ]
    batches = [
        u
        for u in updates
        if isinstance(u, PayoutBatchUpdate) and u.provider_batch_id == created.provider_batch_id
    ]
    assert [(b.batch_id, b.status) for b in batches] == [(created.batch_id, "SUCCESS")]


def test_transaction_search_lists_what_the_sandbox_moved(
    sandbox_url: str, paypal: PayPalProvider
) -> None:
    capture_id = captured(sandbox_url, paypal, Money(1250, "usd"))
    refund_id = new_id("refund")
    refund = paypal.refund_payment(
        RefundRequest(refund_id, "unused-order-ref", capture_id, Money(500, "usd"), refund_id, "")
    )
    item = PayoutItem("report-item", "organizer@example.com", Money(4000, "usd"))
    batch = paypal.create_payout(batch_id=new_id("batch"), items=(item,), email_subject="Payout")
    control(sandbox_url, f"/_sandbox/payouts/{batch.provider_batch_id}/process")
    now = datetime.now(UTC)

    found = {
        t.transaction_id: t
        for t in PayPalReporting(paypal.api, page_size=2).transactions(
            start=now - timedelta(days=1), end=now + timedelta(days=1)
        )
    }

    sale = found[capture_id]
    assert (sale.kind, sale.amount, sale.fee, sale.status) == (
        TransactionKind.PAYMENT,
        Money(1250, "usd"),
        Money(-93, "usd"),  # 3.49 % + 0.49, as the capture's seller_receivable_breakdown says
        "S",
    )
    back = found[refund.provider_refund_id]
    assert (back.kind, back.amount, back.fee, back.reference_id) == (
        TransactionKind.REFUND,
        Money(-500, "usd"),
        Money(17, "usd"),
        capture_id,
    )
    (payout,) = [t for t in found.values() if t.custom_field == "report-item"]
    assert (payout.kind, payout.amount, payout.fee) == (
        TransactionKind.PAYOUT,
        Money(-4000, "usd"),
        Money(-80, "usd"),
    )
