"""Refund events from both providers reduce to the same `RefundUpdate`.

Shapes come from the providers: Stripe's own example refund (fixtures3.json) and refund
resources that PayPal's Payments v2 specification accepts.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.ports import ProviderRefundStatus, RefundUpdate
from eventpay.providers.paypal_events import parse_refund_event
from eventpay.providers.stripe import StripeProvider, stripe_client
from support.paypal_openapi import validate_schema

FACTS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


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


@cache
def _stripe_example_refund() -> dict[str, Any]:
    refund: dict[str, Any] = json.loads((FACTS / "stripe" / "fixtures3.json").read_text())[
        "resources"
    ]["refund"]
    return refund


def _stripe_event(event_type: str, **changes: Any) -> dict[str, Any]:
    refund = copy.deepcopy(_stripe_example_refund())
    refund.update(changes)
    return {"id": "evt_1", "object": "event", "type": event_type, "data": {"object": refund}}


def test_stripe_refund_events_name_the_payment_and_the_amount() -> None:
    example = _stripe_example_refund()
    update = _stripe().parse_refund_event(
        "refund.created", _stripe_event("refund.created", payment_intent="pi_3Pgaf")
    )
    assert update == RefundUpdate(
        provider_refund_id=example["id"],
        refund_id_hint=None,  # made in the dashboard: no id of ours in the metadata
        status=ProviderRefundStatus.SUCCEEDED,
        payment_provider_ref="pi_3Pgaf",
        capture_id=example["charge"],
        amount=Money(example["amount"], example["currency"]),
    )


def test_stripe_refunds_of_charges_without_an_intent_name_only_the_charge() -> None:
    # Stripe's own example: `payment_intent` is null (a charge made without one).
    update = _stripe().parse_refund_event("refund.updated", _stripe_event("refund.updated"))
    assert update is not None
    assert (update.payment_provider_ref, update.capture_id) == (None, "ch_1PgafuB7WZ01zgkWXYmPNZs8")


def test_stripe_expanded_references_are_read_as_ids() -> None:
    event = _stripe_event(
        "refund.created",
        payment_intent={"id": "pi_x", "object": "payment_intent"},
        charge={"id": "ch_x", "object": "charge"},
    )
    update = _stripe().parse_refund_event("refund.created", event)
    assert update is not None
    assert (update.payment_provider_ref, update.capture_id) == ("pi_x", "ch_x")


@pytest.mark.parametrize(
    "changes",
    [{"amount": None}, {"amount": "100"}, {"amount": True}, {"currency": "xxx"}, {"currency": 1}],
)
def test_stripe_unusable_amounts_are_left_out(changes: dict[str, Any]) -> None:
    update = _stripe().parse_refund_event(
        "refund.created", _stripe_event("refund.created", **changes)
    )
    assert update is not None
    assert update.amount is None


def _paypal_refund(**changes: Any) -> dict[str, Any]:
    """A refund as PayPal's Payments v2 shows it (checked against the specification)."""
    refund: dict[str, Any] = {
        "id": "1JU08902781691411",
        "amount": {"value": "12.50", "currency_code": "USD"},
        "status": "COMPLETED",
        "create_time": "2027-01-15T12:00:00Z",
        "update_time": "2027-01-15T12:00:00Z",
        "links": [
            {
                "href": "https://api.sandbox.paypal.com/v2/payments/refunds/1JU08902781691411",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": "https://api.sandbox.paypal.com/v2/payments/captures/2GG279541U471931P",
                "rel": "up",
                "method": "GET",
            },
        ],
    }
    refund.update(changes)
    validate_schema("payments_payment_v2", "refund", refund)
    return refund


def test_paypal_refund_names_its_capture_by_the_up_link_and_its_amount() -> None:
    update = parse_refund_event("PAYMENT.CAPTURE.REFUNDED", {"resource": _paypal_refund()})
    assert update == RefundUpdate(
        provider_refund_id="1JU08902781691411",
        refund_id_hint=None,  # refunded in PayPal's web UI: no custom_id of ours
        status=ProviderRefundStatus.SUCCEEDED,
        capture_id="2GG279541U471931P",
        amount=Money(1250, "usd"),
    )


def test_paypal_amounts_use_the_currency_exponent() -> None:
    resource = _paypal_refund(amount={"value": "1000", "currency_code": "JPY"})
    update = parse_refund_event("PAYMENT.CAPTURE.REFUNDED", {"resource": resource})
    assert update is not None
    assert update.amount == Money(1000, "jpy")


def test_paypal_refund_without_an_up_link_or_amount_names_neither() -> None:
    resource = _paypal_refund()
    del resource["amount"]
    resource["links"] = [link for link in resource["links"] if link["rel"] != "up"] + [
        {"href": "https://api.sandbox.paypal.com/v2/checkout/orders/5O1", "rel": "up"}
    ]
    update = parse_refund_event("PAYMENT.CAPTURE.REFUNDED", {"resource": resource})
    assert update is not None
    assert (update.capture_id, update.amount) == (None, None)


@pytest.mark.parametrize(
    "amount",
    [{"value": "12.505", "currency_code": "USD"}, {"value": 12, "currency_code": "USD"}, "12.50"],
)
def test_paypal_unusable_amounts_are_left_out(amount: Any) -> None:
    resource = {"id": "R1", "status": "COMPLETED", "amount": amount}
    update = parse_refund_event("PAYMENT.CAPTURE.REFUNDED", {"resource": resource})
    assert update is not None
    assert update.amount is None
