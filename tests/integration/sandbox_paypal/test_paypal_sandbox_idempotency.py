"""PayPal-Request-Id: replays, a different body, concurrent duplicates, errors not kept, scope."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from eventpay.sandbox.paypal.idempotency import (
    ORDERS_WINDOW_S,
    PAYMENTS_WINDOW_S,
    Proceed,
    Replay,
    RequestIdLedger,
    StoredResponse,
)

HOUR_S = 3600


def test_same_id_and_body_replays_the_first_answer_exactly(paypal, order_body) -> None:
    body = order_body()
    headers = {"PayPal-Request-Id": "create-attempt-1"}

    first = paypal.post("/v2/checkout/orders", json=body, headers=headers)
    second = paypal.post("/v2/checkout/orders", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers["PayPal-Debug-Id"] == first.headers["PayPal-Debug-Id"]
    assert second.headers["Sandbox-Replayed"] == "true"
    assert "Sandbox-Request-Mismatch" not in second.headers
    counts = paypal.http.get("/_sandbox/idempotency").json()
    assert counts == {
        "request_ids": 1,
        "in_flight": 0,
        "replays": 1,
        "mismatched_replays": 0,
        "expired": 0,
    }


def test_same_id_with_another_body_replays_the_original_like_paypal(paypal, order_body) -> None:
    headers = {"PayPal-Request-Id": "create-attempt-2"}

    first = paypal.post("/v2/checkout/orders", json=order_body(value="10.00"), headers=headers)
    second = paypal.post("/v2/checkout/orders", json=order_body(value="99.00"), headers=headers)

    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Sandbox-Request-Mismatch"] == "true"
    assert paypal.http.get("/_sandbox/idempotency").json()["mismatched_replays"] == 1


def test_retried_capture_replays_instead_of_capturing_twice(paypal, order_body) -> None:
    order = paypal.create_order(order_body())
    paypal.approve(order["id"])

    first = paypal.capture(order["id"], **{"PayPal-Request-Id": "capture-1"})
    retry = paypal.capture(order["id"], **{"PayPal-Request-Id": "capture-1"})
    fresh = paypal.capture(order["id"], **{"PayPal-Request-Id": "capture-2"})

    assert (first.status_code, retry.status_code, fresh.status_code) == (201, 201, 422)
    assert retry.content == first.content
    assert len(paypal.events("PAYMENT.CAPTURE.COMPLETED")) == 1


def test_concurrent_duplicate_waits_for_the_first_and_gets_its_answer(
    paypal, order_body, wait_until
) -> None:
    order = paypal.create_order(order_body())
    paypal.approve(order["id"])
    path = f"/v2/checkout/orders/{order['id']}/capture"
    fault = {"path_prefix": path, "mode": "delay", "delay_s": 0.5}
    assert paypal.http.post("/_sandbox/faults", json=fault).status_code == 201
    url = paypal.http.base_url.join(path)
    headers = {**paypal.auth, "PayPal-Request-Id": "capture-concurrent"}

    def capture() -> httpx.Response:
        return httpx.post(url, headers=headers, timeout=10)

    def in_flight() -> int:
        count: int = paypal.http.get("/_sandbox/idempotency").json()["in_flight"]
        return count

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(capture)
        wait_until(lambda: in_flight() == 1, "the first capture to hold the request id")
        second = pool.submit(capture)
        responses = [first.result(), second.result()]

    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert "Sandbox-Replayed" not in responses[0].headers
    assert responses[1].headers["Sandbox-Replayed"] == "true"
    assert len(paypal.events("PAYMENT.CAPTURE.COMPLETED")) == 1
    counts = paypal.http.get("/_sandbox/idempotency").json()
    assert (counts["in_flight"], counts["replays"]) == (0, 1)


def test_errors_are_not_kept_so_a_retry_after_the_fix_runs(paypal, order_body) -> None:
    order = paypal.create_order(order_body())
    headers = {"PayPal-Request-Id": "capture-too-early"}

    early = paypal.capture(order["id"], **headers)
    paypal.approve(order["id"])
    later = paypal.capture(order["id"], **headers)

    assert early.status_code == 422
    assert later.status_code == 201


def test_request_ids_are_scoped_to_the_path(paypal, order_body) -> None:
    orders = [paypal.create_order(order_body()) for _ in range(2)]
    for order in orders:
        paypal.approve(order["id"])

    results = [paypal.capture(o["id"], **{"PayPal-Request-Id": "same-id"}) for o in orders]

    assert [r.status_code for r in results] == [201, 201]
    assert results[0].json()["id"] != results[1].json()["id"]


def _age(paypal, seconds: float) -> None:
    response = paypal.http.post("/_sandbox/idempotency/age", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def test_an_order_id_is_forgotten_after_paypals_six_hours(paypal, order_body) -> None:
    """Orders v2: "The server stores keys for 6 hours"; after that the same id is new."""
    headers = {"PayPal-Request-Id": "create-window"}
    first = paypal.post("/v2/checkout/orders", json=order_body(), headers=headers)
    _age(paypal, ORDERS_WINDOW_S - 60)
    within = paypal.post("/v2/checkout/orders", json=order_body(), headers=headers)
    _age(paypal, 120)
    after = paypal.post("/v2/checkout/orders", json=order_body(), headers=headers)

    assert within.json()["id"] == first.json()["id"]
    assert after.status_code == 201
    assert "Sandbox-Replayed" not in after.headers
    assert after.json()["id"] != first.json()["id"]
    assert paypal.http.get("/_sandbox/idempotency").json()["expired"] == 1


def test_a_refund_id_outlives_the_orders_window_until_45_days(paypal) -> None:
    """Payments v2 refunds: "The server stores keys for 45 days"; then a replay refunds again."""
    capture = paypal.paid_capture("12.50")
    url = f"/v2/payments/captures/{capture['id']}/refund"
    body = {"amount": {"currency_code": "USD", "value": "1.00"}}
    headers = {"PayPal-Request-Id": "refund-window"}
    first = paypal.post(url, json=body, headers=headers)
    _age(paypal, 7 * 24 * HOUR_S)
    within = paypal.post(url, json=body, headers=headers)
    _age(paypal, PAYMENTS_WINDOW_S)
    after = paypal.post(url, json=body, headers=headers)

    assert within.json()["id"] == first.json()["id"]
    assert after.status_code == 201
    assert after.json()["id"] != first.json()["id"]
    assert len(paypal.events("PAYMENT.CAPTURE.REFUNDED")) == 2


@pytest.mark.parametrize("seconds", [-1, "soon", True, None])
def test_ids_only_get_older_by_a_number(paypal, seconds: object) -> None:
    response = paypal.http.post("/_sandbox/idempotency/age", json={"seconds": seconds})

    assert response.status_code == 400


def test_a_configured_window_replaces_paypals_for_every_api() -> None:
    now = [1000.0]
    ledger = RequestIdLedger(window_s=30, clock=lambda: now[0])
    stored = StoredResponse(201, b"{}", {})
    for path in ("/v2/checkout/orders", "/v2/payments/captures/C/refund"):
        scope = ("client", "POST", path, "id-1")
        assert isinstance(ledger.begin(scope, "f"), Proceed)
        ledger.finish(scope, stored)
        now[0] += 30
        assert isinstance(ledger.begin(scope, "f"), Replay)
        now[0] += 1
        assert isinstance(ledger.begin(scope, "f"), Proceed)
    with pytest.raises(ValueError, match="positive"):
        RequestIdLedger(window_s=0)


def test_the_window_is_set_for_every_api_and_back_to_paypals(paypal, order_body) -> None:
    default = paypal.http.get("/_sandbox/idempotency/window").json()
    assert default == {
        "window_s": None,
        "orders_window_s": ORDERS_WINDOW_S,
        "payments_window_s": PAYMENTS_WINDOW_S,
    }
    short = paypal.http.post("/_sandbox/idempotency/window", json={"window_s": 60}).json()
    headers = {"PayPal-Request-Id": "create-short-window"}
    first = paypal.post("/v2/checkout/orders", json=order_body(), headers=headers)
    _age(paypal, 61)
    after = paypal.post("/v2/checkout/orders", json=order_body(), headers=headers)
    refused = paypal.http.post("/_sandbox/idempotency/window", json={"window_s": 0})
    back = paypal.http.post("/_sandbox/idempotency/window", json={"window_s": None}).json()

    assert short["orders_window_s"] == short["payments_window_s"] == 60
    assert after.json()["id"] != first.json()["id"]
    assert refused.status_code == 400
    assert back == default
