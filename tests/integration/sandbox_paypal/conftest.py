"""Fixtures for the PayPal sandbox tests: one sandbox and one webhook receiver per session.

The sandbox runs with uvicorn in a background thread on a free port, subscribed at start-up to
a small Starlette receiver (also on a BackgroundServer) that records every delivery and answers
with programmable statuses. Each test gets both reset, and a `PayPal` client holding a fresh
access token, with helpers for the usual steps (create, approve, capture).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from eventpay.sandbox.paypal import BackgroundServer, RetryPolicy, create_app

FAST_RETRY = RetryPolicy(base_delay_s=0.05, factor=2.0, max_attempts=6, timeout_s=2.0)
WAIT_S = 10.0
WEBHOOK_ID = "8PT597110X687430LKGECATA"
RETURN_URL = "https://shop.example/paypal/return"
CANCEL_URL = "https://shop.example/paypal/cancel"
OrderBody = Callable[..., dict[str, Any]]


def wait_until(predicate: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
    """Poll until `predicate()` is truthy and return it; fail (never skip) after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Delivery:
    path: str  # with the query string, if any
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records webhook POSTs; answers each with the next queued status, then 200."""

    url: str = ""
    statuses: deque[int] = field(default_factory=deque)
    deliveries: list[Delivery] = field(default_factory=list)
    visits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)

    def reset(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.statuses.clear()
            self.visits.clear()

    @property
    def base_url(self) -> str:
        return self.url.removesuffix("/hooks/paypal")

    def app(self) -> Starlette:
        """POST /hooks/paypal records webhooks; GET /shop/... records a browser's arrival."""

        async def hook(request: Request) -> Response:
            body = await request.body()
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            with self.lock:
                self.deliveries.append(Delivery(path, dict(request.headers), body))
                status = self.statuses.popleft() if self.statuses else 200
            return Response(status_code=status)

        async def shop(request: Request) -> Response:
            with self.lock:
                self.visits.append(f"{request.url.path}?{request.url.query}")
            return Response("back at the shop", media_type="text/plain")

        return Starlette(
            routes=[
                Route("/hooks/paypal", hook, methods=["POST"]),
                Route("/shop/{page}", shop, methods=["GET"]),
            ]
        )


def order_body(
    *,
    value: str = "12.50",
    currency: str = "USD",
    items: list[dict[str, Any]] | None = None,
    item_total: str | None = None,
    modern: bool = True,
    **unit: Any,
) -> dict[str, Any]:
    """A create-order request; `modern`: URLs in payment_source.paypal.experience_context."""
    amount: dict[str, Any] = {"currency_code": currency, "value": value}
    if item_total is not None:
        amount["breakdown"] = {"item_total": {"currency_code": currency, "value": item_total}}
    purchase_unit: dict[str, Any] = {
        "reference_id": "attempt-1",
        "custom_id": "order-42",
        "invoice_id": "EVT-2024-0042",
        "amount": amount,
        **unit,
    }
    if items is not None:
        purchase_unit["items"] = items
    urls = {"return_url": RETURN_URL, "cancel_url": CANCEL_URL}
    body: dict[str, Any] = {"intent": "CAPTURE", "purchase_units": [purchase_unit]}
    if modern:
        body["payment_source"] = {"paypal": {"experience_context": urls}}
    else:
        body["application_context"] = urls
    return body


class PayPal:
    """httpx against the sandbox with a bearer token, plus the steps most tests need."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http = http
        self.auth = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def create_order(self, body: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        response = self.post("/v2/checkout/orders", json=body or order_body(), headers=headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def approve(self, order_id: str) -> dict[str, Any]:
        response = self.http.post(f"/_sandbox/orders/{order_id}/approve")
        assert response.status_code == 200, response.text
        approved: dict[str, Any] = response.json()
        return approved

    def set_outcome(self, order_id: str, status: str, reason: str | None = None) -> None:
        body = {"status": status} if reason is None else {"status": status, "reason": reason}
        response = self.http.post(f"/_sandbox/orders/{order_id}/capture-outcome", json=body)
        assert response.status_code == 200, response.text

    def capture(self, order_id: str, **headers: str) -> httpx.Response:
        return self.post(f"/v2/checkout/orders/{order_id}/capture", headers=headers)

    def paid_capture(self, value: str = "12.50", currency: str = "USD") -> dict[str, Any]:
        """A COMPLETED capture of a new approved order."""
        order = self.create_order(order_body(value=value, currency=currency))
        self.approve(order["id"])
        response = self.capture(order["id"])
        assert response.status_code == 201, response.text
        capture: dict[str, Any] = response.json()["purchase_units"][0]["payments"]["captures"][0]
        return capture

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.http.get("/_sandbox/events").json()["data"]
        return [e for e in data if event_type in (None, e["event_type"])]


def fetch_token(
    http: httpx.Client, client_id: str = "sandbox-client", secret: str = "s3cret"
) -> str:
    response = http.post(
        "/v1/oauth2/token", auth=(client_id, secret), data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    with BackgroundServer(receiver.app()) as server:
        receiver.url = f"{server.base_url}/hooks/paypal"
        yield receiver


@pytest.fixture(scope="session")
def sandbox_server(receiver_server: Receiver) -> Iterator[str]:
    app = create_app(
        environment="test", webhooks=[(receiver_server.url, WEBHOOK_ID)], webhook_retry=FAST_RETRY
    )
    with BackgroundServer(app) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def http_session(sandbox_server: str) -> Iterator[httpx.Client]:
    # One client for the session: building an httpx.Client costs more than a request.
    with httpx.Client(base_url=sandbox_server, timeout=10) as session:
        yield session


@pytest.fixture
def receiver(receiver_server: Receiver, http: httpx.Client) -> Receiver:
    """The webhook receiver, emptied after the sandbox was reset for this test."""
    receiver_server.reset()
    return receiver_server


@pytest.fixture
def http(http_session: httpx.Client) -> httpx.Client:
    """httpx against the sandbox, reset to empty for this test (no credentials attached)."""
    http_session.post("/_sandbox/reset").raise_for_status()
    return http_session


@pytest.fixture
def paypal(http: httpx.Client) -> PayPal:
    return PayPal(http, fetch_token(http))


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[..., Any]:
    """`wait_until(predicate, what)`: poll until truthy, fail after a generous deadline."""
    return wait_until


@pytest.fixture(name="order_body")
def order_body_fixture() -> OrderBody:
    """`order_body(value=, currency=, items=, item_total=, modern=, **purchase_unit_fields)`."""
    return order_body
