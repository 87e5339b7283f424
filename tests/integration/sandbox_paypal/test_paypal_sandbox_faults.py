"""Injected faults: HTTP 500 before the operation runs, and delays that leave outcomes unknown."""

from __future__ import annotations

import httpx
import pytest

from support.paypal_openapi import validate_response


def _arm(paypal, **fault) -> dict:
    response = paypal.http.post("/_sandbox/faults", json=fault)
    assert response.status_code == 201, response.text
    armed: dict = response.json()
    return armed


def test_http_500_does_not_run_the_request_and_a_retry_does(paypal, order_body) -> None:
    order = paypal.create_order(order_body())
    paypal.approve(order["id"])
    _arm(paypal, path_prefix="/v2/checkout/orders/", method="POST", mode="http_500")
    headers = {"PayPal-Request-Id": "capture-after-500"}

    failed = paypal.capture(order["id"], **headers)
    retried = paypal.capture(order["id"], **headers)

    assert failed.status_code == 500
    validate_response(
        "checkout_orders_v2", "/v2/checkout/orders/{id}/capture", "POST", 500, failed.json()
    )
    assert failed.json()["name"] == "INTERNAL_SERVER_ERROR"
    assert retried.status_code == 201
    assert paypal.http.get("/_sandbox/faults").json()["data"] == []


def test_delay_times_the_client_out_but_the_capture_happens(paypal, order_body) -> None:
    order = paypal.create_order(order_body())
    paypal.approve(order["id"])
    _arm(
        paypal, path_prefix=f"/v2/checkout/orders/{order['id']}/capture", mode="delay", delay_s=0.5
    )
    headers = {**paypal.auth, "PayPal-Request-Id": "slow-capture"}
    url = paypal.http.base_url.join(f"/v2/checkout/orders/{order['id']}/capture")

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, headers=headers, timeout=0.1)
    retried = httpx.post(url, headers=headers, timeout=5)

    assert retried.status_code == 201
    assert retried.json()["status"] == "COMPLETED"
    assert len(paypal.events("PAYMENT.CAPTURE.COMPLETED")) == 1


def test_faults_count_down_and_can_be_listed_and_cleared(paypal) -> None:
    armed = _arm(paypal, path_prefix="/v2/payments/", mode="http_500", times=2)
    _arm(paypal, mode="delay", delay_s=0.01)

    listed = paypal.http.get("/_sandbox/faults").json()["data"]
    first = paypal.get("/v2/payments/captures/ANY")
    cleared = paypal.http.delete("/_sandbox/faults").json()
    after = paypal.get("/v2/payments/captures/ANY")

    assert armed["remaining"] == 2
    assert [f["path_prefix"] for f in listed] == ["/v2/payments/", "/v"]
    assert first.status_code == 500
    assert cleared == {"cleared": 2}
    assert after.status_code == 404


def test_token_endpoint_can_fail_too(http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"path_prefix": "/v1/oauth2/token", "mode": "http_500"})

    failed = http.post(
        "/v1/oauth2/token", auth=("a", "b"), data={"grant_type": "client_credentials"}
    )
    healthy = http.post(
        "/v1/oauth2/token", auth=("a", "b"), data={"grant_type": "client_credentials"}
    )

    assert failed.status_code == 500
    assert failed.json()["name"] == "INTERNAL_SERVER_ERROR"
    assert healthy.status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"mode": "explode"},
        {"mode": "delay", "delay_s": -1},
        {"mode": "http_500", "times": 0},
        {"mode": "http_500", "path_prefix": "v2"},
        {"mode": "http_500", "color": "red"},
    ],
)
def test_malformed_faults_are_refused(http: httpx.Client, spec: dict) -> None:
    assert http.post("/_sandbox/faults", json=spec).status_code == 400


@pytest.mark.parametrize(
    ("status", "name", "issue"),
    [
        (403, "NOT_AUTHORIZED", "PERMISSION_DENIED"),
        (409, "RESOURCE_CONFLICT", "PREVIOUS_REQUEST_IN_PROGRESS"),
        (503, "SERVICE_UNAVAILABLE", None),
    ],
)
def test_a_status_fault_answers_paypals_error_without_running(
    paypal, order_body, status: int, name: str, issue: str | None
) -> None:
    _arm(paypal, path_prefix="/v2/checkout/orders", method="POST", mode="status", status=status)

    refused = paypal.post("/v2/checkout/orders", json=order_body())
    created = paypal.post("/v2/checkout/orders", json=order_body())

    assert refused.status_code == status
    validate_response("checkout_orders_v2", "/v2/checkout/orders", "POST", status, refused.json())
    assert refused.json()["name"] == name
    assert [d["issue"] for d in refused.json().get("details", [])] == ([issue] if issue else [])
    assert created.status_code == 201


def test_a_status_fault_with_a_body_answers_it_exactly(paypal, order_body) -> None:
    _arm(paypal, path_prefix="/v2/checkout/orders", mode="status", status=201, body={"x": 1})

    response = paypal.post("/v2/checkout/orders", json=order_body())

    assert (response.status_code, response.json()) == (201, {"x": 1})
    assert paypal.events() == []


def test_a_401_status_fault_is_paypals_invalid_token(paypal) -> None:
    _arm(paypal, path_prefix="/v2/checkout/orders/", method="GET", mode="status", status=401)

    response = paypal.get("/v2/checkout/orders/5O190127TN364715T")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_the_token_endpoint_takes_status_faults(http) -> None:
    _arm_on(http, path_prefix="/v1/oauth2/token", mode="status", status=401)

    response = http.post(
        "/v1/oauth2/token", auth=("sandbox-client", "s3cret"), data={"grant_type": "x"}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def _arm_on(http, **fault) -> None:
    response = http.post("/_sandbox/faults", json=fault)
    assert response.status_code == 201, response.text
