"""Refunds: partial, the rest, caps, currency, pending captures, and how the capture follows."""

from __future__ import annotations

from support.paypal_openapi import validate_response

PAYMENTS = "payments_payment_v2"
REFUND = "/v2/payments/captures/{capture_id}/refund"


def _refund(
    paypal, capture_id: str, value: str | None = None, currency: str = "USD", **headers: str
):
    body = {} if value is None else {"amount": {"currency_code": currency, "value": value}}
    return paypal.post(f"/v2/payments/captures/{capture_id}/refund", json=body, headers=headers)


def test_partial_then_the_rest(paypal) -> None:
    capture = paypal.paid_capture("12.50")

    partial = _refund(paypal, capture["id"], "2.50", Prefer="return=representation")
    after_partial = paypal.get(f"/v2/payments/captures/{capture['id']}").json()
    rest = _refund(paypal, capture["id"])
    refund = paypal.get(f"/v2/payments/refunds/{rest.json()['id']}")
    after_rest = paypal.get(f"/v2/payments/captures/{capture['id']}").json()

    assert partial.status_code == 201
    validate_response(PAYMENTS, REFUND, "POST", 201, partial.json())
    assert partial.json()["status"] == "COMPLETED"
    assert partial.json()["amount"] == {"currency_code": "USD", "value": "2.50"}
    assert partial.json()["invoice_id"] == "EVT-2024-0042"
    assert after_partial["status"] == "PARTIALLY_REFUNDED"
    assert rest.status_code == 201
    validate_response(PAYMENTS, REFUND, "POST", 201, rest.json())
    assert set(rest.json()) == {"id", "status", "links"}  # Prefer: return=minimal by default
    validate_response(PAYMENTS, "/v2/payments/refunds/{refund_id}", "GET", 200, refund.json())
    assert refund.json()["amount"]["value"] == "10.00"
    assert refund.json()["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "12.50"
    assert {link["rel"] for link in refund.json()["links"]} == {"self", "up"}
    assert after_rest["status"] == "REFUNDED"
    events = paypal.events("PAYMENT.CAPTURE.REFUNDED")
    assert [e["resource"]["amount"]["value"] for e in events] == ["10.00", "2.50"]


def test_refunds_are_capped_at_the_captured_amount(paypal) -> None:
    capture = paypal.paid_capture("12.50")

    too_much = _refund(paypal, capture["id"], "12.51")
    _refund(paypal, capture["id"], "12.50")
    nothing_left = _refund(paypal, capture["id"], "0.01")

    for response in (too_much, nothing_left):
        assert response.status_code == 422
        validate_response(PAYMENTS, REFUND, "POST", 422, response.json())
    assert too_much.json()["details"][0]["issue"] == "REFUND_AMOUNT_EXCEEDED"
    assert nothing_left.json()["details"][0]["issue"] == "CAPTURE_FULLY_REFUNDED"


def test_refund_amount_is_checked(paypal) -> None:
    capture = paypal.paid_capture("1000", "JPY")

    wrong_currency = _refund(paypal, capture["id"], "10", "USD")
    zero = _refund(paypal, capture["id"], "0", "JPY")
    decimals = _refund(paypal, capture["id"], "10.5", "JPY")
    exact = _refund(paypal, capture["id"], "400", "JPY", Prefer="return=representation")

    issues = [r.json()["details"][0]["issue"] for r in (wrong_currency, zero, decimals)]
    assert issues == [
        "REFUND_CAPTURE_CURRENCY_MISMATCH",
        "CANNOT_BE_ZERO_OR_NEGATIVE",
        "DECIMALS_NOT_SUPPORTED",
    ]
    for response in (wrong_currency, zero, decimals):
        validate_response(PAYMENTS, REFUND, "POST", 422, response.json())
    assert exact.json()["amount"] == {"currency_code": "JPY", "value": "400"}


def test_pending_capture_cannot_be_refunded(paypal, order_body) -> None:
    order = paypal.create_order(order_body())
    paypal.approve(order["id"])
    paypal.set_outcome(order["id"], "PENDING")
    capture = paypal.capture(order["id"]).json()["purchase_units"][0]["payments"]["captures"][0]

    response = _refund(paypal, capture["id"])

    assert response.status_code == 422
    validate_response(PAYMENTS, REFUND, "POST", 422, response.json())
    assert response.json()["details"][0]["issue"] == "PENDING_CAPTURE"


def test_order_shows_its_refunds(paypal) -> None:
    capture = paypal.paid_capture("12.50")
    refund_id = _refund(paypal, capture["id"], "1.00").json()["id"]
    order_id = capture["links"][-1]["href"].rsplit("/", 1)[-1]

    order = paypal.get(f"/v2/checkout/orders/{order_id}").json()

    validate_response("checkout_orders_v2", "/v2/checkout/orders/{id}", "GET", 200, order)
    payments = order["purchase_units"][0]["payments"]
    assert [r["id"] for r in payments["refunds"]] == [refund_id]
    assert payments["captures"][0]["status"] == "PARTIALLY_REFUNDED"


def test_unknown_capture_and_refund_are_not_found(paypal) -> None:
    missing_capture = _refund(paypal, "NOPE", "1.00")
    missing_refund = paypal.get("/v2/payments/refunds/NOPE")

    assert missing_capture.status_code == 404
    validate_response(PAYMENTS, REFUND, "POST", 404, missing_capture.json())
    assert missing_refund.status_code == 404
    validate_response(
        PAYMENTS, "/v2/payments/refunds/{refund_id}", "GET", 404, missing_refund.json()
    )
