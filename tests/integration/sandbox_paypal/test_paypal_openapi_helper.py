"""The OpenAPI helper itself: the specifications are there, and invalid bodies are caught."""

from __future__ import annotations

import pytest

from support import paypal_openapi
from support.paypal_openapi import (
    SPEC_DIR,
    SPEC_NAMES,
    load_spec,
    validate_request,
    validate_response,
    validate_schema,
)

ORDER = {
    "id": "5O190127TN364715T",
    "status": "CREATED",
    "links": [{"href": "https://api.example/v2/checkout/orders/5O190127TN364715T", "rel": "self"}],
}


@pytest.mark.parametrize("spec_name", SPEC_NAMES)
def test_every_specification_is_present(spec_name: str) -> None:
    assert (SPEC_DIR / f"{spec_name}.json").is_file(), f"missing {spec_name}.json in {SPEC_DIR}"
    assert load_spec(spec_name)["openapi"].startswith("3.")


def test_a_valid_body_passes() -> None:
    validate_response("checkout_orders_v2", "/v2/checkout/orders/{id}", "GET", 200, ORDER)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({**ORDER, "status": "PAID"}, "is not one of"),
        ({**ORDER, "links": [{"rel": "self"}]}, "'href' is a required property"),
        ({**ORDER, "surprise": True}, "unknown key /surprise"),
        (
            {**ORDER, "purchase_units": [{"amount": {"currency_code": "USD", "value": "1,00"}}]},
            "does not match",
        ),
    ],
)
def test_invalid_bodies_are_reported(body: dict, complaint: str) -> None:
    with pytest.raises(AssertionError, match=complaint):
        validate_response("checkout_orders_v2", "/v2/checkout/orders/{id}", "GET", 200, body)


def test_unknown_keys_can_be_allowed() -> None:
    validate_response(
        "checkout_orders_v2",
        "/v2/checkout/orders/{id}",
        "GET",
        200,
        {**ORDER, "surprise": True},
        allow_unknown_keys=True,
    )


def test_error_issues_must_be_ones_the_specification_enumerates() -> None:
    error = {
        "name": "UNPROCESSABLE_ENTITY",
        "message": (
            "The requested action could not be performed, semantically incorrect, or failed "
            "business validation."
        ),
        "debug_id": "abc",
        "details": [{"issue": "MADE_UP_ISSUE", "description": "Nope."}],
    }

    with pytest.raises(AssertionError, match="not valid under any"):
        validate_response("checkout_orders_v2", "/v2/checkout/orders", "POST", 422, error)
    validate_schema("checkout_orders_v2", "error_422", error)


def test_undocumented_operations_statuses_and_bodies_fail() -> None:
    with pytest.raises(AssertionError, match="no path"):
        validate_response("checkout_orders_v2", "/v2/nothing", "GET", 200, {})
    with pytest.raises(AssertionError, match="no PUT"):
        validate_response("checkout_orders_v2", "/v2/checkout/orders", "PUT", 200, {})
    with pytest.raises(AssertionError, match="status not documented"):
        validate_response(
            "customer_disputes_v1", "/v1/customer/disputes/{id}/provide-evidence", "POST", 201, {}
        )
    with pytest.raises(AssertionError, match="without a body"):
        validate_response(
            "invoicing_v2", "/v2/invoicing/invoices/{invoice_id}/cancel", "POST", 204, {"x": 1}
        )
    with pytest.raises(AssertionError, match="no schema"):
        validate_schema("checkout_orders_v2", "no_such_schema", {})


def test_requests_are_checked_too() -> None:
    validate_request("payments_payment_v2", "/v2/payments/captures/{capture_id}/refund", "POST", {})
    with pytest.raises(AssertionError, match="does not match"):
        validate_request(
            "payments_payment_v2",
            "/v2/payments/captures/{capture_id}/refund",
            "POST",
            {"amount": {"currency_code": "USD", "value": "ten"}},
        )
    with pytest.raises(AssertionError, match="no application/json"):
        validate_request(
            "customer_disputes_v1", "/v1/customer/disputes/{id}/accept-claim", "POST", {}
        )


def test_a_missing_specification_fails_instead_of_skipping(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(paypal_openapi, "SPEC_DIR", tmp_path)
    load_spec.cache_clear()
    try:
        with pytest.raises(AssertionError, match="specification missing"):
            load_spec("checkout_orders_v2")
    finally:
        monkeypatch.undo()
        load_spec.cache_clear()


def test_nullable_becomes_a_null_type() -> None:
    converted = paypal_openapi._nullable_to_null(
        {
            "properties": {
                "a": {"type": "string", "nullable": True},
                "b": {"$ref": "#/x", "nullable": True},
            }
        }
    )

    assert converted["properties"]["a"] == {"type": ["string", "null"]}
    assert converted["properties"]["b"] == {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}
