"""Refunds through the adapter: partial, full, over the cap, retried, and their statuses."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.ports import ProviderRefundStatus, ProviderRejected, RefundRequest
from eventpay.providers.paypal import PayPalProvider

from .builders import approved_order
from .fake_paypal import FakePayPal


def refund_request(amount: Money, capture_id: str | None, order_id: str, key: str) -> RefundRequest:
    return RefundRequest(
        refund_id=f"refund-{key}",
        payment_provider_ref=order_id,
        capture_id=capture_id,
        amount=amount,
        idempotency_key=key,
        reason="Event cancelled",
    )


def test_partial_then_full_refund_then_over_the_cap(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    capture_id = provider.capture_payment(order_id, idempotency_key="k").capture_id
    partial = provider.refund_payment(
        refund_request(Money(1000, "usd"), capture_id, order_id, "r1")
    )
    rest = provider.refund_payment(refund_request(Money(3500, "usd"), capture_id, order_id, "r2"))
    assert (partial.status, partial.amount) == (ProviderRefundStatus.SUCCEEDED, Money(1000, "usd"))
    assert (rest.status, rest.amount) == (ProviderRefundStatus.SUCCEEDED, Money(3500, "usd"))
    assert partial.provider_refund_id != rest.provider_refund_id
    with pytest.raises(ProviderRejected) as refused:
        provider.refund_payment(refund_request(Money(1, "usd"), capture_id, order_id, "r3"))
    assert refused.value.code == "CAPTURE_FULLY_REFUNDED"
    requests = fake.api_requests("POST", f"/v2/payments/captures/{capture_id}/refund")
    assert [r.headers["paypal-request-id"] for r in requests] == ["r1", "r2", "r3"]
    assert json.loads(requests[0].content) == {
        "amount": {"currency_code": "USD", "value": "10.00"},
        "custom_id": "refund-r1",
    }


def test_a_refund_above_what_is_left_is_rejected(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    capture_id = provider.capture_payment(order_id, idempotency_key="k").capture_id
    with pytest.raises(ProviderRejected) as refused:
        provider.refund_payment(refund_request(Money(4501, "usd"), capture_id, order_id, "r1"))
    assert refused.value.code == "REFUND_AMOUNT_EXCEEDED"


def test_a_retried_refund_is_one_refund(fake: FakePayPal, provider: PayPalProvider) -> None:
    order_id = approved_order(fake, provider)
    capture_id = provider.capture_payment(order_id, idempotency_key="k").capture_id
    first = provider.refund_payment(refund_request(Money(1000, "usd"), capture_id, order_id, "r1"))
    again = provider.refund_payment(refund_request(Money(1000, "usd"), capture_id, order_id, "r1"))
    assert again == first
    refunds = fake.orders[order_id]["purchase_units"][0]["payments"]["refunds"]
    assert len(refunds) == 1


def test_a_refund_without_capture_id_finds_it_on_the_order(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    capture_id = provider.capture_payment(order_id, idempotency_key="k").capture_id
    refund = provider.refund_payment(refund_request(Money(4500, "usd"), None, order_id, "r1"))
    assert refund.status is ProviderRefundStatus.SUCCEEDED
    assert fake.api_requests("POST", f"/v2/payments/captures/{capture_id}/refund")


def test_refunding_an_order_never_captured_is_rejected(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    with pytest.raises(ProviderRejected) as refused:
        provider.refund_payment(refund_request(Money(4500, "usd"), None, order_id, "r1"))
    assert refused.value.code == "not_captured"


@pytest.mark.parametrize(
    ("paypal_status", "status"),
    [
        ("COMPLETED", ProviderRefundStatus.SUCCEEDED),
        ("PENDING", ProviderRefundStatus.PENDING),
        ("FAILED", ProviderRefundStatus.FAILED),
        ("CANCELLED", ProviderRefundStatus.CANCELED),
    ],
)
def test_refund_status_mapping(
    fake: FakePayPal,
    provider: PayPalProvider,
    paypal_status: str,
    status: ProviderRefundStatus,
) -> None:
    answer: dict[str, Any] = {
        "id": "1JU08902781691411",
        "status": paypal_status,
        "amount": {"currency_code": "JPY", "value": "700"},
    }
    if paypal_status == "FAILED":
        answer["status_details"] = {"reason": "ECHECK"}
    fake.fail_next("POST", "/v2/payments/captures/", 201, answer)
    refund = provider.refund_payment(refund_request(Money(700, "jpy"), "CAP1", "ORDER1", "r1"))
    assert refund.status is status
    assert refund.amount == Money(700, "jpy")
    assert refund.failure_reason == ("ECHECK" if paypal_status == "FAILED" else None)


def test_a_refund_carries_our_refund_id_back_as_its_hint(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    capture_id = provider.capture_payment(order_id, idempotency_key="k").capture_id
    made = provider.refund_payment(refund_request(Money(1000, "usd"), capture_id, order_id, "r1"))
    assert made.refund_id_hint == "refund-r1"
    assert provider.retrieve_refund(made.provider_refund_id) == made


def test_find_refunds_lists_the_captures_refunds_from_the_order(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    """PayPal has no refund list per capture: the order's payments.refunds is the list."""
    order_id = approved_order(fake, provider)
    capture_id = provider.capture_payment(order_id, idempotency_key="k").capture_id
    assert provider.find_refunds(payment_provider_ref=order_id, capture_id=capture_id) == []
    first = provider.refund_payment(refund_request(Money(1000, "usd"), capture_id, order_id, "a"))
    second = provider.refund_payment(refund_request(Money(500, "usd"), capture_id, order_id, "b"))
    found = provider.find_refunds(payment_provider_ref=order_id, capture_id=capture_id)
    assert found == [first, second]
    assert [r.refund_id_hint for r in found] == ["refund-a", "refund-b"]
    assert provider.find_refunds(payment_provider_ref=order_id, capture_id=None) == found
    assert provider.find_refunds(payment_provider_ref=order_id, capture_id="OTHERCAPTURE") == []


def test_a_refund_made_at_paypal_has_no_hint(fake: FakePayPal, provider: PayPalProvider) -> None:
    order_id = approved_order(fake, provider)
    capture_id = provider.capture_payment(order_id, idempotency_key="k").capture_id
    provider.refund_payment(refund_request(Money(1000, "usd"), capture_id, order_id, "a"))
    del fake.orders[order_id]["purchase_units"][0]["payments"]["refunds"][0]["custom_id"]
    (found,) = provider.find_refunds(payment_provider_ref=order_id, capture_id=capture_id)
    assert found.refund_id_hint is None


def test_an_unknown_refund_is_rejected(provider: PayPalProvider) -> None:
    with pytest.raises(ProviderRejected) as refused:
        provider.retrieve_refund("1JU08902781691411")
    assert refused.value.code == "INVALID_RESOURCE_ID"


def test_find_payment_finds_nothing_and_capabilities_say_so(provider: PayPalProvider) -> None:
    assert provider.capabilities.payment_lookup is False
    assert provider.find_payment(payment_id="pay-1") is None


def test_the_key_window_is_the_orders_apis_six_hours(provider: PayPalProvider) -> None:
    # Orders v2: "The server stores keys for 6 hours" (create, capture); refunds keep 45 days.
    assert provider.capabilities.idempotency_window == timedelta(hours=6)


@pytest.mark.parametrize("amount", [Money(1005, "kwd"), Money(500, "isk"), Money(12345, "huf")])
def test_a_refund_paypal_cannot_take_is_refused_before_any_call(
    fake: FakePayPal, provider: PayPalProvider, amount: Money
) -> None:
    """Old code sent a KWD or ISK refund to PayPal (and read the order first for HUF)."""
    with pytest.raises(ProviderRejected) as refused:
        provider.refund_payment(refund_request(amount, None, "ORDER1", "r1"))
    assert refused.value.code == "unsupported_amount"
    assert fake.api_requests() == []
