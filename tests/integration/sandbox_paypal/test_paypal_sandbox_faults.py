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
