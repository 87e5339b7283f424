"""Payout items: read one item, and the Payouts webhooks reduced to item and batch updates."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.ports import ProviderOutcomeUnknown, ProviderRejected
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_payout_events import (
    PayoutBatchUpdate,
    PayoutItemUpdate,
    PayoutOutcome,
    outcome_of,
    parse_payout_event,
)
from eventpay.providers.paypal_payouts import PayPalPayouts
from support.paypal_openapi import validate_schema

from .fake_paypal import FakePayPal

BASE = "https://api-m.sandbox.paypal.com"
# Shaped like PayPal's "show payout item details" example, checked against the specification.
ITEM: dict[str, Any] = {
    "payout_item_id": "8AELMXH8UB2P8",
    "transaction_id": "0C413693MN970190K",
    "activity_id": "0E158638XS0329106",
    "transaction_status": "UNCLAIMED",
    "payout_item_fee": {"currency": "USD", "value": "0.35"},
    "payout_batch_id": "Q8KVJG9TZTNN4",
    "sender_batch_id": "run-2026-05-organizers",
    "payout_item": {
        "recipient_type": "EMAIL",
        "amount": {"value": "9.87", "currency": "USD"},
        "note": "Your May payout",
        "receiver": "receiver@example.com",
        "sender_item_id": "payout-item-42",
        "recipient_wallet": "PAYPAL",
    },
    "time_processed": "2026-05-27T10:17:41Z",
    "errors": {
        "name": "RECEIVER_UNREGISTERED",
        "message": "Receiver is unregistered",
        "debug_id": "ca787bdf80d7a",
        "information_link": "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors",
        "details": [],
    },
    "links": [
        {"href": f"{BASE}/v1/payments/payouts-item/8AELMXH8UB2P8", "rel": "item", "method": "GET"}
    ],
}


def _event(event_type: str, resource: dict[str, Any], resource_type: str) -> dict[str, Any]:
    event = {
        "id": "WH-7Y7254563A4550640-11V2185806837105M",
        "event_version": "1.0",
        "create_time": "2026-05-27T10:17:42Z",
        "resource_type": resource_type,
        "resource_version": "1.0",
        "event_type": event_type,
        "summary": "A payout item event",
        "resource": resource,
        "links": [],
    }
    validate_schema("notifications_webhooks_v1", "event", event)
    return event


def _item(**changes: Any) -> dict[str, Any]:
    item = copy.deepcopy(ITEM)
    item.update(changes)
    validate_schema("payments_payouts_batch_v1", "payout_item-2", item)
    return item


def test_an_item_is_read_in_full(fake: FakePayPal, provider: PayPalProvider) -> None:
    fake.fail_next("GET", "/v1/payments/payouts-item/", 200, _item())

    read = PayPalPayouts(provider.api).get_payout_item("8AELMXH8UB2P8")

    (request,) = fake.api_requests("GET")
    assert request.url.path == "/v1/payments/payouts-item/8AELMXH8UB2P8"
    assert read == PayoutItemUpdate(
        provider_item_id="8AELMXH8UB2P8",
        provider_batch_id="Q8KVJG9TZTNN4",
        item_id="payout-item-42",
        batch_id="run-2026-05-organizers",
        status="UNCLAIMED",
        outcome=PayoutOutcome.UNCLAIMED,
        amount=Money(987, "usd"),
        fee=Money(35, "usd"),
        transaction_id="0C413693MN970190K",
        reason="RECEIVER_UNREGISTERED",
    )


def test_an_unknown_item_is_paypals_refusal(fake: FakePayPal, provider: PayPalProvider) -> None:
    fake.fail_next(
        "GET",
        "/v1/payments/payouts-item/",
        404,
        {"name": "INVALID_RESOURCE_ID", "message": "Resource not found.", "debug_id": "d1"},
    )
    with pytest.raises(ProviderRejected) as refused:
        PayPalPayouts(provider.api).get_payout_item("NOSUCHITEM")
    assert refused.value.code == "INVALID_RESOURCE_ID"


def test_an_item_answer_without_ids_is_unknown(fake: FakePayPal, provider: PayPalProvider) -> None:
    fake.fail_next("GET", "/v1/payments/payouts-item/", 200, {"transaction_status": "SUCCESS"})
    with pytest.raises(ProviderOutcomeUnknown):
        PayPalPayouts(provider.api).get_payout_item("8AELMXH8UB2P8")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("SUCCESS", PayoutOutcome.PAID),
        ("UNCLAIMED", PayoutOutcome.UNCLAIMED),
        ("RETURNED", PayoutOutcome.RETURNED),
        ("REFUNDED", PayoutOutcome.RETURNED),
        ("REVERSED", PayoutOutcome.RETURNED),
        ("FAILED", PayoutOutcome.FAILED),
        ("BLOCKED", PayoutOutcome.FAILED),
        ("PENDING", PayoutOutcome.PENDING),
        ("ONHOLD", PayoutOutcome.PENDING),
        ("SOMETHING_NEW", PayoutOutcome.PENDING),
    ],
)
def test_each_paypal_status_says_where_the_money_is(status: str, outcome: PayoutOutcome) -> None:
    assert outcome_of(status) is outcome


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", "SUCCESS"),
        ("PAYMENT.PAYOUTS-ITEM.RETURNED", "RETURNED"),
        ("PAYMENT.PAYOUTS-ITEM.FAILED", "FAILED"),
        ("PAYMENT.PAYOUTS-ITEM.BLOCKED", "BLOCKED"),
    ],
)
def test_item_events_carry_the_items_status(event_type: str, status: str) -> None:
    resource = _item(transaction_status=status)

    update = parse_payout_event(event_type, _event(event_type, resource, "payouts_item"))

    assert isinstance(update, PayoutItemUpdate)
    assert (update.provider_item_id, update.item_id, update.status) == (
        "8AELMXH8UB2P8",
        "payout-item-42",
        status,
    )
    assert update.outcome is outcome_of(status)


def test_an_item_event_without_a_status_takes_the_events_word() -> None:
    resource = _item()
    del resource["transaction_status"]

    update = parse_payout_event(
        "PAYMENT.PAYOUTS-ITEM.HELD", _event("PAYMENT.PAYOUTS-ITEM.HELD", resource, "payouts_item")
    )

    assert isinstance(update, PayoutItemUpdate)
    assert (update.status, update.outcome) == ("ONHOLD", PayoutOutcome.PENDING)


def test_batch_events_carry_the_batch_status() -> None:
    batch = {
        "batch_header": {
            "payout_batch_id": "Q8KVJG9TZTNN4",
            "batch_status": "DENIED",
            "sender_batch_header": {"sender_batch_id": "run-2026-05-organizers"},
        },
        "links": [],
    }
    validate_schema("payments_payouts_batch_v1", "payout_batch", batch)

    update = parse_payout_event(
        "PAYMENT.PAYOUTSBATCH.DENIED", _event("PAYMENT.PAYOUTSBATCH.DENIED", batch, "payouts")
    )

    assert update == PayoutBatchUpdate("Q8KVJG9TZTNN4", "run-2026-05-organizers", "DENIED")


def test_other_events_are_not_payouts() -> None:
    assert parse_payout_event("PAYMENT.CAPTURE.COMPLETED", {"resource": {}}) is None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"resource": {"transaction_status": "SUCCESS"}},
        {"resource": {"payout_item_id": "8AELMXH8UB2P8"}},
    ],
)
def test_an_item_event_naming_no_item_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message names what is missing
        parse_payout_event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", payload)
