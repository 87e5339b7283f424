"""Currencies at the sandbox, in JPY, ISK, KWD and EUR, with PayPal's own errors.

PayPal's currency-codes page lists EUR (two decimals) and JPY (no decimals) and neither ISK
nor KWD. Orders v2 refuse an unlisted currency with INVALID_CURRENCY_CODE and decimals in JPY
with DECIMAL_PRECISION; Payments v2 refunds say DECIMALS_NOT_SUPPORTED (both 422, as the
specifications enumerate). Whatever the sandbox writes keeps the currency's digits: a
three-decimal amount is written with three (the old `format_minor` raised for KWD).
"""

from __future__ import annotations

from typing import Any

import pytest

from eventpay.sandbox.paypal import money
from support.paypal_openapi import validate_response

ORDERS = "checkout_orders_v2"
CREATE = "/v2/checkout/orders"
PAYMENTS = "payments_payment_v2"
REFUND = "/v2/payments/captures/{capture_id}/refund"


@pytest.mark.parametrize(
    ("minor", "currency", "value"),
    [(1205, "EUR", "12.05"), (4500, "JPY", "4500"), (1005, "KWD", "1.005"), (5, "ISK", "5")],
)
def test_amounts_are_written_with_the_currencys_digits(
    minor: int, currency: str, value: str
) -> None:
    assert money.format_minor(minor, currency) == value
    assert money.format_minor(-minor, currency) == f"-{value}"


@pytest.mark.parametrize(("value", "currency"), [("12.05", "EUR"), ("4500", "JPY")])
def test_orders_in_paypal_currencies_keep_their_digits_everywhere(
    paypal, order_body, value: str, currency: str
) -> None:
    items = [{"name": "Entry", "quantity": "1", "unit_amount": _money(currency, value)}]
    order = paypal.create_order(
        order_body(value=value, currency=currency, items=items, item_total=value),
        Prefer="return=representation",
    )
    validate_response(ORDERS, CREATE, "POST", 201, order)
    page = paypal.http.get(f"/checkoutnow?token={order['id']}")
    paypal.approve(order["id"])
    captured = paypal.capture(order["id"], Prefer="return=representation").json()

    unit = captured["purchase_units"][0]
    assert unit["amount"]["value"] == value
    assert unit["items"][0]["unit_amount"]["value"] == value
    capture = unit["payments"]["captures"][0]
    assert capture["amount"] == _money(currency, value)
    breakdown = capture["seller_receivable_breakdown"]
    for part in ("gross_amount", "paypal_fee", "net_amount"):
        decimals = breakdown[part]["value"].partition(".")[2]
        assert len(decimals) == (2 if currency == "EUR" else 0), breakdown
    assert f'<strong id="amount">{value} {currency}</strong>' in page.text
    assert f"<td>{value} {currency}</td>" in page.text


@pytest.mark.parametrize(("value", "currency"), [("1.005", "KWD"), ("4500", "ISK")])
def test_a_currency_paypal_does_not_take_is_invalid_currency_code(
    paypal, order_body, value: str, currency: str
) -> None:
    response = paypal.post(CREATE, json=order_body(value=value, currency=currency))

    assert response.status_code == 422, response.text
    validate_response(ORDERS, CREATE, "POST", 422, response.json())
    issue = response.json()["details"][0]
    assert issue["issue"] == "INVALID_CURRENCY_CODE"
    assert issue["field"].endswith("/amount/currency_code")
    assert paypal.events() == []


def test_decimals_in_jpy_are_decimal_precision_for_orders(paypal, order_body) -> None:
    response = paypal.post(CREATE, json=order_body(value="4500.50", currency="JPY"))

    assert response.status_code == 422
    validate_response(ORDERS, CREATE, "POST", 422, response.json())
    assert response.json()["details"][0]["issue"] == "DECIMAL_PRECISION"


@pytest.mark.parametrize(
    ("captured", "refund", "issue"),
    [
        (("4500", "JPY"), ("100.5", "JPY"), "DECIMALS_NOT_SUPPORTED"),
        (("12.05", "EUR"), ("1.005", "EUR"), "DECIMAL_PRECISION"),
        (("12.05", "EUR"), ("1.005", "KWD"), "REFUND_CAPTURE_CURRENCY_MISMATCH"),
    ],
)
def test_refunds_refuse_what_the_currency_cannot_hold(
    paypal, captured: tuple[str, str], refund: tuple[str, str], issue: str
) -> None:
    capture = paypal.paid_capture(*captured)
    value, currency = refund
    response = paypal.post(
        f"/v2/payments/captures/{capture['id']}/refund", json={"amount": _money(currency, value)}
    )

    assert response.status_code == 422, response.text
    validate_response(PAYMENTS, REFUND, "POST", 422, response.json())
    assert response.json()["details"][0]["issue"] == issue


def test_a_refund_in_eur_keeps_two_digits(paypal) -> None:
    capture = paypal.paid_capture("12.05", "EUR")
    refund = paypal.post(
        f"/v2/payments/captures/{capture['id']}/refund",
        json={"amount": _money("EUR", "0.05")},
        headers={"Prefer": "return=representation"},
    ).json()

    assert refund["amount"] == _money("EUR", "0.05")
    assert refund["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "0.05"


def _money(currency: str, value: str) -> dict[str, Any]:
    return {"currency_code": currency, "value": value}
