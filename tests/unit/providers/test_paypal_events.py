"""PayPal webhook events reduced to payment updates (or to nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from eventpay.domain import Money, PaymentStatus
from eventpay.providers.paypal import PayPalProvider

ORDER_ID = "5O190127TN364715T"
CAPTURE_ID = "3C679366HH908993F"


def event(event_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "WH-58D329510W468432D-8HN650336L201105X",
        "event_version": "1.0",
        "create_time": "2026-03-01T10:00:00.000Z",
        "resource_type": "capture",
        "event_type": event_type,
        "summary": "summary",
        "resource": resource,
        "links": [],
    }


def capture(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": CAPTURE_ID,
        "status": status,
        "amount": {"currency_code": "USD", "value": "45.00"},
        "custom_id": "pay-1",
        "invoice_id": "pay-1",
        "supplementary_data": {"related_ids": {"order_id": ORDER_ID}},
        "links": [
            {"href": f"https://api.paypal.com/v2/payments/captures/{CAPTURE_ID}", "rel": "self"},
            {"href": f"https://api.paypal.com/v2/checkout/orders/{ORDER_ID}", "rel": "up"},
        ],
        **extra,
    }


@pytest.fixture
def paypal() -> PayPalProvider:
    return PayPalProvider(client_id="c", client_secret="s", api_base="https://api.invalid")


def test_an_approved_order_asks_for_the_capture(paypal: PayPalProvider) -> None:
    order = {
        "id": ORDER_ID,
        "status": "APPROVED",
        "purchase_units": [
            {
                "reference_id": "ord-1",
                "custom_id": "pay-1",
                "amount": {"currency_code": "JPY", "value": "4500"},
            }
        ],
    }
    update = paypal.parse_event("CHECKOUT.ORDER.APPROVED", event("CHECKOUT.ORDER.APPROVED", order))
    assert update is not None
    assert update.provider_ref == ORDER_ID
    assert update.status is PaymentStatus.PROCESSING
    assert update.capture_required is True
    assert update.payment_id_hint == "pay-1"
    assert update.amount == Money(4500, "jpy")
    assert update.capture_id is None


def test_a_completed_capture_is_money_received(paypal: PayPalProvider) -> None:
    update = paypal.parse_event(
        "PAYMENT.CAPTURE.COMPLETED", event("PAYMENT.CAPTURE.COMPLETED", capture("COMPLETED"))
    )
    assert update is not None
    assert update.provider_ref == ORDER_ID  # the order, which the attempt stores
    assert update.status is PaymentStatus.SUCCEEDED
    assert update.capture_id == CAPTURE_ID
    assert update.amount == Money(4500, "usd")
    assert update.amount_received == 4500
    assert update.payment_id_hint == "pay-1"
    assert update.capture_required is False


def test_without_supplementary_data_the_up_link_names_the_order(paypal: PayPalProvider) -> None:
    resource = capture("COMPLETED")
    del resource["supplementary_data"]
    update = paypal.parse_event(
        "PAYMENT.CAPTURE.COMPLETED", event("PAYMENT.CAPTURE.COMPLETED", resource)
    )
    assert update is not None
    assert update.provider_ref == ORDER_ID


def test_a_capture_that_names_no_order_is_an_error_not_ignored(paypal: PayPalProvider) -> None:
    resource = capture("COMPLETED", links=[])
    del resource["supplementary_data"]
    with pytest.raises(ValueError, match="names no order"):
        paypal.parse_event(
            "PAYMENT.CAPTURE.COMPLETED", event("PAYMENT.CAPTURE.COMPLETED", resource)
        )


def test_a_pending_capture_is_processing(paypal: PayPalProvider) -> None:
    resource = capture("PENDING", status_details={"reason": "PENDING_REVIEW"})
    update = paypal.parse_event(
        "PAYMENT.CAPTURE.PENDING", event("PAYMENT.CAPTURE.PENDING", resource)
    )
    assert update is not None
    assert update.status is PaymentStatus.PROCESSING
    assert update.capture_id == CAPTURE_ID
    assert update.amount_received is None
    assert update.failure_code is None


@pytest.mark.parametrize("event_type", ["PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"])
def test_denied_and_declined_captures_fail_with_the_reason(
    paypal: PayPalProvider, event_type: str
) -> None:
    update = paypal.parse_event(event_type, event(event_type, capture("DECLINED")))
    assert update is not None
    assert update.status is PaymentStatus.FAILED
    assert update.failure_code == "DECLINED"
    assert update.failure_message == "PayPal declined the capture"
    assert update.amount_received is None
    assert update.capture_id is None  # no money moved: nothing will refer to this capture

    with_reason = capture("DECLINED", status_details={"reason": "BUYER_COMPLAINT"})
    update = paypal.parse_event(event_type, event(event_type, with_reason))
    assert update is not None
    assert update.failure_code == "BUYER_COMPLAINT"
    assert update.failure_message == "PayPal declined the capture (BUYER_COMPLAINT)"


@pytest.mark.parametrize(
    "event_type",
    [
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.REVERSED",
        "CHECKOUT.ORDER.COMPLETED",
        "PAYMENT.PAYOUTSBATCH.SUCCESS",
        "PAYMENT.PAYOUTS-ITEM.UNCLAIMED",
        "CUSTOMER.DISPUTE.CREATED",
        "CUSTOMER.DISPUTE.RESOLVED",
        "INVOICING.INVOICE.PAID",
        "SOMETHING.NEW",
    ],
)
def test_events_that_move_no_payment_attempt_give_none(
    paypal: PayPalProvider, event_type: str
) -> None:
    assert paypal.parse_event(event_type, event(event_type, {"id": "X"})) is None


def test_a_payment_event_without_resource_is_an_error(paypal: PayPalProvider) -> None:
    with pytest.raises(ValueError, match="no resource"):
        paypal.parse_event("PAYMENT.CAPTURE.COMPLETED", {"id": "WH-1"})
