"""Orders v2: creating (both URL styles, Prefer), showing, and PayPal's validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from support.paypal_openapi import validate_request, validate_response

ORDERS = "checkout_orders_v2"
CREATE = "/v2/checkout/orders"


def _rels(order: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in order["links"]}


def test_order_with_payment_source_needs_payer_action(paypal, order_body) -> None:
    body = order_body(modern=True)
    validate_request(ORDERS, CREATE, "POST", body)

    response = paypal.post(CREATE, json=body, headers={"Prefer": "return=representation"})

    order = response.json()
    assert response.status_code == 201
    validate_response(ORDERS, CREATE, "POST", 201, order)
    assert order["status"] == "PAYER_ACTION_REQUIRED"
    assert order["intent"] == "CAPTURE"
    assert set(_rels(order)) == {"self", "payer-action", "update", "capture"}
    assert _rels(order)["payer-action"].endswith(f"/checkoutnow?token={order['id']}")
    assert _rels(order)["self"].startswith(str(paypal.http.base_url).rstrip("/"))
    unit = order["purchase_units"][0]
    assert unit["reference_id"] == "attempt-1"
    assert unit["custom_id"] == "order-42"
    assert unit["invoice_id"] == "EVT-2024-0042"
    assert unit["amount"] == {"currency_code": "USD", "value": "12.50"}


def test_order_with_application_context_goes_to_the_approve_link(paypal, order_body) -> None:
    body = order_body(modern=False)
    validate_request(ORDERS, CREATE, "POST", body)

    response = paypal.post(CREATE, json=body)

    order = response.json()
    validate_response(ORDERS, CREATE, "POST", 201, order)
    assert order["status"] == "CREATED"
    assert set(order) == {"id", "status", "links"}  # Prefer: return=minimal is the default
    assert set(_rels(order)) == {"self", "approve", "update", "capture"}


def test_order_can_be_shown_with_its_items(paypal, order_body) -> None:
    items = [
        {
            "name": "Ticket",
            "quantity": "2",
            "unit_amount": {"currency_code": "USD", "value": "5.00"},
        },
        {
            "name": "Parking",
            "quantity": "1",
            "unit_amount": {"currency_code": "USD", "value": "2.5"},
        },
    ]
    created = paypal.create_order(order_body(value="12.50", item_total="12.50", items=items))

    response = paypal.get(f"/v2/checkout/orders/{created['id']}")

    order = response.json()
    assert response.status_code == 200
    validate_response(ORDERS, "/v2/checkout/orders/{id}", "GET", 200, order)
    unit = order["purchase_units"][0]
    assert [i["unit_amount"]["value"] for i in unit["items"]] == ["5.00", "2.50"]
    assert unit["amount"]["breakdown"]["item_total"]["value"] == "12.50"
    assert order["create_time"].endswith("Z")


@pytest.mark.parametrize(
    ("value", "currency", "shown"), [("12.5", "USD", "12.50"), ("1000", "JPY", "1000")]
)
def test_amounts_take_the_currency_exponent(paypal, order_body, value, currency, shown) -> None:
    order = paypal.create_order(
        order_body(value=value, currency=currency), Prefer="return=representation"
    )

    assert order["purchase_units"][0]["amount"]["value"] == shown


def _refused(paypal, body: dict[str, Any], status: int) -> dict[str, Any]:
    response = paypal.post(CREATE, json=body)
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()
    validate_response(ORDERS, CREATE, "POST", status, error)
    return error


@pytest.mark.parametrize(("value", "currency"), [("12.505", "USD"), ("1000.5", "JPY")])
def test_too_many_decimals_is_decimal_precision(paypal, order_body, value, currency) -> None:
    error = _refused(paypal, order_body(value=value, currency=currency), 422)

    assert error["name"] == "UNPROCESSABLE_ENTITY"
    assert error["details"][0]["issue"] == "DECIMAL_PRECISION"
    assert error["details"][0]["field"] == "/purchase_units/@reference_id=='attempt-1'/amount/value"


def test_items_must_add_up_to_item_total(paypal, order_body) -> None:
    items = [
        {
            "name": "Ticket",
            "quantity": "2",
            "unit_amount": {"currency_code": "USD", "value": "5.00"},
        }
    ]

    mismatch = _refused(paypal, order_body(value="12.50", item_total="12.50", items=items), 422)
    no_total = _refused(paypal, order_body(value="10.00", items=items), 422)

    assert mismatch["details"][0]["issue"] == "ITEM_TOTAL_MISMATCH"
    assert mismatch["links"][0]["href"].endswith("#error-ITEM_TOTAL_MISMATCH")
    assert no_total["details"][0]["issue"] == "ITEM_TOTAL_REQUIRED"


def test_breakdown_must_add_up_to_the_amount(paypal, order_body) -> None:
    error = _refused(paypal, order_body(value="12.50", item_total="10.00"), 422)

    assert error["details"][0]["issue"] == "AMOUNT_MISMATCH"


def test_authorize_intent_is_refused(paypal, order_body) -> None:
    error = _refused(paypal, {**order_body(), "intent": "AUTHORIZE"}, 422)

    assert error["details"][0]["issue"] == "UNSUPPORTED_INTENT"


def test_exactly_one_purchase_unit(paypal, order_body) -> None:
    unit = order_body()["purchase_units"][0]

    two = _refused(paypal, {"intent": "CAPTURE", "purchase_units": [unit, unit]}, 400)
    none = _refused(paypal, {"intent": "CAPTURE", "purchase_units": []}, 400)

    assert two["details"][0]["issue"] == "INVALID_ARRAY_MAX_ITEMS"
    assert none["details"][0]["issue"] == "INVALID_ARRAY_MIN_ITEMS"


def test_bad_values_and_malformed_json_are_invalid_requests(paypal, order_body) -> None:
    missing = _refused(paypal, {"purchase_units": order_body()["purchase_units"]}, 400)
    syntax = _refused(paypal, order_body(value="twelve"), 400)
    malformed = paypal.post(
        CREATE, content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert missing["details"][0] == {
        "issue": "MISSING_REQUIRED_PARAMETER",
        "field": "/intent",
        "location": "body",
        "description": "A required parameter is missing.",
    }
    assert syntax["details"][0]["issue"] == "INVALID_PARAMETER_SYNTAX"
    assert malformed.status_code == 400
    validate_response(ORDERS, CREATE, "POST", 400, malformed.json())
    assert malformed.json()["details"][0]["issue"] == "MALFORMED_REQUEST_JSON"


def test_unknown_order_is_resource_not_found(paypal) -> None:
    response = paypal.get("/v2/checkout/orders/5O190127TN364715T")

    assert response.status_code == 404
    validate_response(ORDERS, "/v2/checkout/orders/{id}", "GET", 404, response.json())
    assert response.json()["details"][0]["issue"] == "INVALID_RESOURCE_ID"


def test_unemulated_routes_answer_paypals_404(paypal) -> None:
    response = paypal.post("/v2/checkout/orders/X/authorize")

    assert response.status_code == 404
    assert response.json()["name"] == "RESOURCE_NOT_FOUND"
