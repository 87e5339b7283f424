"""`PAYMENT.SALE.REFUNDED` read as a refund of a membership charge, with or without the sale's
running total (`total_refunded_amount`): the payload below is shaped like the sample in PayPal's
webhook event reference, which carries only the refund's own `amount`, negative."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.ports.capabilities import ChargeEvent
from eventpay.providers.paypal_billing import PayPalBilling

EVENT = "PAYMENT.SALE.REFUNDED"

DOCS_SAMPLE: dict[str, Any] = {
    "id": "WH-2N242548W9943490U-1JU23391CS4765624",
    "create_time": "2014-10-31T15:42:24Z",
    "resource_type": "sale",
    "event_type": EVENT,
    "summary": "A 0.01 USD sale payment was refunded",
    "resource": {
        "sale_id": "9T0916710M1105906",
        "parent_payment": "PAY-5437236047802405NKRJ22UA",
        "update_time": "2014-10-31T15:41:51Z",
        "amount": {"total": "-0.01", "currency": "USD"},
        "create_time": "2014-10-31T15:41:51Z",
        "links": [
            {
                "href": "https://api.paypal.com/v1/payments/refund/6YX43824R4443062K",
                "rel": "self",
                "method": "GET",
            }
        ],
        "id": "6YX43824R4443062K",
        "state": "completed",
    },
    "links": [],
    "event_version": "1.0",
}


def _billing() -> PayPalBilling:
    return PayPalBilling(api=None)  # type: ignore[arg-type]  # parsing calls no API


def test_a_refund_without_the_running_total_counts_its_own_amount() -> None:
    # Found in review: no total_refunded_amount raised ValueError, and the event went dead.
    parsed = _billing().parse_charge_event(EVENT, DOCS_SAMPLE)
    assert parsed == ChargeEvent(
        kind="refund",
        ref="6YX43824R4443062K",
        charge_ref="9T0916710M1105906",
        status="completed",
        amount=Money(1, "usd"),
    )


def test_the_running_total_is_preferred_when_it_is_there() -> None:
    payload = copy.deepcopy(DOCS_SAMPLE)
    payload["resource"]["amount"] = {"total": "5.00", "currency": "USD"}
    payload["resource"]["total_refunded_amount"] = {"value": "12.50", "currency": "USD"}
    parsed = _billing().parse_charge_event(EVENT, payload)
    assert parsed is not None
    assert parsed.amount == Money(1250, "usd")


def test_a_refund_with_no_amount_at_all_has_none() -> None:
    payload = copy.deepcopy(DOCS_SAMPLE)
    del payload["resource"]["amount"]
    parsed = _billing().parse_charge_event(EVENT, payload)
    assert parsed is not None
    assert parsed.amount is None


@pytest.mark.parametrize("event_type", ["PAYMENT.SALE.COMPLETED", "CUSTOMER.DISPUTE.CREATED"])
def test_other_events_are_not_charge_events(event_type: str) -> None:
    assert _billing().parse_charge_event(event_type, DOCS_SAMPLE) is None
