"""Capturing orders: COMPLETED, PENDING then completed or denied, DECLINED, and capturing twice."""

from __future__ import annotations

from typing import Any

import pytest

from support.paypal_openapi import validate_response

ORDERS = "checkout_orders_v2"
CAPTURE = "/v2/checkout/orders/{id}/capture"
PAYMENTS = "payments_payment_v2"


def _approved(paypal, order_body) -> dict[str, Any]:
    order = paypal.create_order(order_body())
    paypal.approve(order["id"])
    return order


def _only_capture(response) -> dict[str, Any]:
    captures: list[dict[str, Any]] = response.json()["purchase_units"][0]["payments"]["captures"]
    assert len(captures) == 1
    return captures[0]


def test_capture_before_approval_is_order_not_approved(paypal, order_body) -> None:
    order = paypal.create_order(order_body())

    response = paypal.capture(order["id"])

    assert response.status_code == 422
    validate_response(ORDERS, CAPTURE, "POST", 422, response.json())
    assert response.json()["details"][0]["issue"] == "ORDER_NOT_APPROVED"


def test_completed_capture_has_paypals_fields(paypal, order_body) -> None:
    order = _approved(paypal, order_body)

    response = paypal.capture(order["id"])

    assert response.status_code == 201
    validate_response(ORDERS, CAPTURE, "POST", 201, response.json())
    assert response.json()["status"] == "COMPLETED"
    assert response.json()["payer"]["email_address"] == "sb-buyer@personal.example.com"
    capture = _only_capture(response)
    assert capture["status"] == "COMPLETED"
    assert "status_details" not in capture
    assert capture["amount"] == {"currency_code": "USD", "value": "12.50"}
    assert capture["final_capture"] is True
    assert capture["seller_protection"]["status"] == "ELIGIBLE"
    money = capture["seller_receivable_breakdown"]
    assert money["gross_amount"]["value"] == "12.50"
    assert money["paypal_fee"]["value"] == "0.93"  # 3.49 % + 0.49, rounded half up
    assert money["net_amount"]["value"] == "11.57"
    assert capture["custom_id"] == "order-42"
    assert capture["invoice_id"] == "EVT-2024-0042"
    assert {link["rel"] for link in capture["links"]} == {"self", "refund", "up"}
    assert capture["create_time"] == capture["update_time"]
    event = paypal.events("PAYMENT.CAPTURE.COMPLETED")[0]
    assert event["resource"]["id"] == capture["id"]
    assert event["resource"]["supplementary_data"]["related_ids"]["order_id"] == order["id"]


def test_capture_with_representation_and_the_payments_view(paypal, order_body) -> None:
    order = _approved(paypal, order_body)

    response = paypal.capture(order["id"], Prefer="return=representation")
    capture = _only_capture(response)
    shown = paypal.get(f"/v2/payments/captures/{capture['id']}")

    validate_response(ORDERS, CAPTURE, "POST", 201, response.json())
    assert response.json()["purchase_units"][0]["amount"]["value"] == "12.50"
    assert shown.status_code == 200
    validate_response(PAYMENTS, "/v2/payments/captures/{capture_id}", "GET", 200, shown.json())
    assert shown.json()["supplementary_data"]["related_ids"]["order_id"] == order["id"]
    assert paypal.get("/v2/payments/captures/NOPE").status_code == 404


def test_second_capture_is_order_already_captured(paypal, order_body) -> None:
    order = _approved(paypal, order_body)
    paypal.capture(order["id"])

    again = paypal.capture(order["id"])

    assert again.status_code == 422
    validate_response(ORDERS, CAPTURE, "POST", 422, again.json())
    assert again.json()["details"][0]["issue"] == "ORDER_ALREADY_CAPTURED"
    assert len(paypal.events("PAYMENT.CAPTURE.COMPLETED")) == 1


@pytest.mark.parametrize(
    ("action", "status", "event"),
    [("complete", "COMPLETED", "COMPLETED"), ("deny", "DECLINED", "DENIED")],
)
def test_pending_capture_is_settled_later(paypal, order_body, action, status, event) -> None:
    order = _approved(paypal, order_body)
    paypal.set_outcome(order["id"], "PENDING", "ECHECK")

    response = paypal.capture(order["id"])
    pending = _only_capture(response)
    settled = paypal.http.post(f"/_sandbox/captures/{pending['id']}/{action}")
    again = paypal.http.post(f"/_sandbox/captures/{pending['id']}/{action}")

    validate_response(ORDERS, CAPTURE, "POST", 201, response.json())
    assert response.json()["status"] == "COMPLETED"
    assert pending["status"] == "PENDING"
    assert pending["status_details"] == {"reason": "ECHECK"}
    assert settled.status_code == 200
    assert settled.json()["status"] == status
    assert again.status_code == 422
    shown = paypal.get(f"/v2/payments/captures/{pending['id']}").json()
    validate_response(PAYMENTS, "/v2/payments/captures/{capture_id}", "GET", 200, shown)
    assert shown["status"] == status
    assert [e["event_type"] for e in paypal.events() if e["event_type"].startswith("PAYMENT.")] == [
        f"PAYMENT.CAPTURE.{event}",
        "PAYMENT.CAPTURE.PENDING",
    ]


def test_pending_reason_defaults_to_pending_review(paypal, order_body) -> None:
    order = _approved(paypal, order_body)
    paypal.set_outcome(order["id"], "PENDING")

    capture = _only_capture(paypal.capture(order["id"]))

    assert capture["status_details"] == {"reason": "PENDING_REVIEW"}


def test_declined_capture_sends_the_buyer_back_and_a_retry_can_succeed(paypal, order_body) -> None:
    order = _approved(paypal, order_body)
    paypal.set_outcome(order["id"], "DECLINED")

    declined = paypal.capture(order["id"])
    before_reapproval = paypal.capture(order["id"])
    paypal.approve(order["id"])
    retried = paypal.capture(order["id"])

    assert declined.status_code == 422
    validate_response(ORDERS, CAPTURE, "POST", 422, declined.json())
    assert declined.json()["details"][0]["issue"] == "INSTRUMENT_DECLINED"
    redirect = next(link for link in declined.json()["links"] if link["rel"] == "redirect")
    assert redirect["href"].endswith(f"/checkoutnow?token={order['id']}")
    assert before_reapproval.json()["details"][0]["issue"] == "ORDER_NOT_APPROVED"
    assert retried.status_code == 201
    shown = paypal.get(f"/v2/checkout/orders/{order['id']}").json()
    statuses = [c["status"] for c in shown["purchase_units"][0]["payments"]["captures"]]
    assert statuses == ["DECLINED", "COMPLETED"]
    declined_event = paypal.events("PAYMENT.CAPTURE.DECLINED")[0]
    assert declined_event["resource"]["status"] == "DECLINED"


def test_capture_outcome_is_checked(paypal, order_body) -> None:
    order = paypal.create_order(order_body())
    url = f"/_sandbox/orders/{order['id']}/capture-outcome"

    bad_status = paypal.http.post(url, json={"status": "MAYBE"})
    bad_reason = paypal.http.post(url, json={"status": "PENDING", "reason": "BECAUSE"})
    unknown = paypal.http.post("/_sandbox/orders/NOPE/capture-outcome", json={"status": "PENDING"})

    assert bad_status.status_code == 400
    assert bad_reason.status_code == 400
    assert unknown.status_code == 404
