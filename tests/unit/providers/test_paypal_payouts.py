"""Payouts: one batch per sender_batch_id, a retry replays it, a reuse is `duplicate_batch`."""

from __future__ import annotations

import json

import httpx
import pytest

from eventpay.domain import Money
from eventpay.ports import PayoutItem, ProviderOutcomeUnknown, ProviderRejected
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_payouts import DuplicatePayoutBatch

from .fake_paypal import FakePayPal

ITEMS = (
    PayoutItem("item-1", "organizer@example.com", Money(12050, "usd"), note="Spring event"),
    PayoutItem("item-2", "unclaimed@example.com", Money(999, "usd")),
    PayoutItem("item-3", "2ZXYTLGXDXKQS", Money(1, "usd")),
)


def test_a_batch_is_created_pending_and_read_back_with_item_statuses(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    batch = provider.create_payout(batch_id="batch-1", items=ITEMS, email_subject="Your payout")
    (request,) = fake.api_requests("POST", "/v1/payments/payouts")
    assert request.headers["paypal-request-id"] == "eventpay-payout-batch-1"
    body = json.loads(request.content)
    assert body["sender_batch_header"] == {
        "sender_batch_id": "batch-1",
        "email_subject": "Your payout",
    }
    assert body["items"][0] == {
        "recipient_type": "EMAIL",
        "receiver": "organizer@example.com",
        "amount": {"currency": "USD", "value": "120.50"},
        "sender_item_id": "item-1",
        "note": "Spring event",
    }
    assert body["items"][2]["recipient_type"] == "PAYPAL_ID"
    assert "note" not in body["items"][1]
    assert (batch.batch_id, batch.status, batch.items) == ("batch-1", "PENDING", ())

    read = provider.get_payout(batch.provider_batch_id)
    assert read.status == "SUCCESS"
    assert read.provider_batch_id == batch.provider_batch_id
    assert [(i.item_id, i.status, i.amount) for i in read.items] == [
        ("item-1", "SUCCESS", Money(12050, "usd")),
        ("item-2", "UNCLAIMED", Money(999, "usd")),
        ("item-3", "SUCCESS", Money(1, "usd")),
    ]
    assert all(i.provider_item_id for i in read.items)


def test_a_retried_create_replays_the_same_batch(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    first = provider.create_payout(batch_id="batch-1", items=ITEMS, email_subject="s")
    again = provider.create_payout(batch_id="batch-1", items=ITEMS, email_subject="s")
    assert again == first
    assert len(fake.batches) == 1


def test_a_reused_batch_id_is_a_duplicate_naming_the_original(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    first = provider.create_payout(batch_id="batch-1", items=ITEMS, email_subject="s")
    fake.replays.clear()  # PayPal forgot the request id, but not the sender_batch_id
    with pytest.raises(DuplicatePayoutBatch) as duplicate:
        provider.create_payout(batch_id="batch-1", items=ITEMS[:1], email_subject="s")
    assert isinstance(duplicate.value, ProviderRejected)
    assert duplicate.value.code == "duplicate_batch"
    assert duplicate.value.provider_batch_id == first.provider_batch_id
    assert first.provider_batch_id in duplicate.value.message
    assert len(fake.batches) == 1


def test_other_payout_refusals_stay_paypals(fake: FakePayPal, provider: PayPalProvider) -> None:
    fake.fail_next(
        "POST",
        "/v1/payments/payouts",
        422,
        {"name": "INSUFFICIENT_FUNDS", "message": "Sender does not have sufficient funds."},
    )
    with pytest.raises(ProviderRejected) as refused:
        provider.create_payout(batch_id="batch-2", items=ITEMS, email_subject="s")
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    assert not isinstance(refused.value, DuplicatePayoutBatch)


def test_a_lost_answer_is_unknown(fake: FakePayPal, provider: PayPalProvider) -> None:
    fake.fail_next("POST", "/v1/payments/payouts", exception=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderOutcomeUnknown):
        provider.create_payout(batch_id="batch-3", items=ITEMS, email_subject="s")


@pytest.mark.parametrize(
    "items",
    [
        (),
        (
            PayoutItem("a", "x@example.com", Money(100, "usd")),
            PayoutItem("b", "y@e.com", Money(1, "eur")),
        ),
        (PayoutItem("a", "x@example.com", Money(0, "usd")),),
    ],
)
def test_batches_paypal_would_refuse_are_refused_before_any_call(
    fake: FakePayPal, provider: PayPalProvider, items: tuple[PayoutItem, ...]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        provider.create_payout(batch_id="batch-4", items=items, email_subject="s")
    assert fake.requests == []


def test_large_batches_are_read_page_by_page(fake: FakePayPal, provider: PayPalProvider) -> None:
    batch = provider.create_payout(batch_id="batch-1", items=ITEMS, email_subject="s")
    stored = fake.batches[batch.provider_batch_id]
    page_one = {**stored, "items": stored["items"][:2], "links": [{"href": "n", "rel": "next"}]}
    page_two = {**stored, "items": stored["items"][2:], "links": []}
    fake.fail_next("GET", "/v1/payments/payouts/", 200, page_one)
    fake.fail_next("GET", "/v1/payments/payouts/", 200, page_two)
    read = provider.get_payout(batch.provider_batch_id)
    assert [i.item_id for i in read.items] == ["item-1", "item-2", "item-3"]
    pages = [r.url.params["page"] for r in fake.api_requests("GET", "/v1/payments/payouts/")]
    assert pages == ["1", "2"]
