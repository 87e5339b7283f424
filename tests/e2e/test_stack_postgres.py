"""The whole stack over HTTP on PostgreSQL: sandbox → signed webhook → worker → order paid.

Unlike the integration tests, nothing is handed over by the test: the sandbox delivers its own
signed events to the running API over HTTP, and the in-process worker applies them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from eventpay.demo import start_stack, stop_stack
from eventpay.sample_data import MEMBER_ID
from eventpay.serving import free_port
from support.api import bearer, confirm_at_sandbox, registration
from support.stack import empty_postgres, make_settings


@pytest.fixture
def stack(postgres_url: str) -> Iterator[str]:
    from eventpay.db import migrate

    migrate(postgres_url)
    url = empty_postgres(postgres_url)
    sandbox_port = free_port()
    settings = make_settings(
        url,
        f"http://127.0.0.1:{sandbox_port}",
        port=free_port(),
        host="127.0.0.1",
        paypal_api_base=f"http://127.0.0.1:{free_port()}",
    )
    stack = start_stack(settings)
    try:
        yield stack.api.url
    finally:
        stop_stack(stack)


def _wait_for(http: httpx.Client, order_id: str, predicate: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        view: dict[str, Any] = http.get(f"/v1/orders/{order_id}", headers=bearer(MEMBER_ID)).json()
        if predicate(view) or time.monotonic() > deadline:
            return view
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("method", "payment_status", "order_status"),
    [
        ("pm_card_visa", "succeeded", "paid"),
        ("pm_card_chargeDeclinedInsufficientFunds", "failed", "awaiting_payment"),
    ],
)
def test_sandbox_webhooks_drive_the_order(
    stack: str, method: str, payment_status: str, order_status: str
) -> None:
    http = httpx.Client(base_url=stack, timeout=10)
    config = http.get("/v1/payment-config").json()["stripe"]
    order = http.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID)).json()
    payment = http.post(
        f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, headers=bearer(MEMBER_ID)
    ).json()
    confirm_at_sandbox(config["api_base"], payment["client_secret"], method)
    view = _wait_for(http, order["id"], lambda v: v["payments"][0]["status"] == payment_status)
    assert view["payments"][0]["status"] == payment_status
    assert view["status"] == order_status
    if payment_status == "failed":
        assert view["payments"][0]["failure_code"] == "insufficient_funds"
    else:
        assert view["registrations"][0]["status"] == "confirmed"
