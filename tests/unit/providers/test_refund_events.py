"""Refund events from both providers reduce to the same `RefundUpdate`."""

from __future__ import annotations

import pytest

from eventpay.ports import ProviderRefundStatus, RefundUpdate
from eventpay.providers.paypal_events import parse_refund_event
from eventpay.providers.stripe import StripeProvider, stripe_client


def _stripe() -> StripeProvider:
    # No request is made: only the event parser is used.
    return StripeProvider(
        stripe_client(secret_key="sk_test_x", api_base="http://127.0.0.1:9", timeout_s=1)
    )


@pytest.mark.parametrize(
    ("event_type", "status", "expected"),
    [
        ("refund.created", "succeeded", ProviderRefundStatus.SUCCEEDED),
        ("refund.updated", "pending", ProviderRefundStatus.PENDING),
        ("refund.failed", "failed", ProviderRefundStatus.FAILED),
        ("refund.updated", "canceled", ProviderRefundStatus.CANCELED),
    ],
)
def test_stripe_refund_events(event_type: str, status: str, expected: ProviderRefundStatus) -> None:
    payload = {
        "data": {
            "object": {
                "id": "re_1",
                "status": status,
                "metadata": {"refund_id": "ours-1"},
                "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
            }
        }
    }
    update = _stripe().parse_refund_event(event_type, payload)
    assert update == RefundUpdate(
        provider_refund_id="re_1",
        refund_id_hint="ours-1",
        status=expected,
        failure_reason="expired_or_canceled_card" if status == "failed" else None,
    )


def test_stripe_payment_events_are_not_refund_events() -> None:
    assert _stripe().parse_refund_event("charge.refunded", {"data": {"object": {}}}) is None
    assert _stripe().parse_refund_event("payment_intent.succeeded", {}) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("COMPLETED", ProviderRefundStatus.SUCCEEDED),
        ("PENDING", ProviderRefundStatus.PENDING),
        ("FAILED", ProviderRefundStatus.FAILED),
        ("CANCELLED", ProviderRefundStatus.CANCELED),
    ],
)
def test_paypal_refund_event(status: str, expected: ProviderRefundStatus) -> None:
    payload = {"resource": {"id": "2GG2", "status": status, "custom_id": "ours-2"}}
    update = parse_refund_event("PAYMENT.CAPTURE.REFUNDED", payload)
    assert update == RefundUpdate("2GG2", "ours-2", expected, None)


def test_paypal_other_events_and_broken_refunds() -> None:
    assert parse_refund_event("PAYMENT.CAPTURE.COMPLETED", {"resource": {}}) is None
    with pytest.raises(ValueError, match="no refund resource"):
        parse_refund_event("PAYMENT.CAPTURE.REFUNDED", {"resource": {}})
