"""Fixtures for the Stripe sandbox tests: one sandbox server per session, reset before each test.

The sandbox runs with uvicorn in a background thread on a free port, with a short webhook retry
schedule; tests drive it with the real `stripe` SDK and with httpx. `receiver` is a tiny local
HTTP server that records webhook deliveries and answers with programmable status codes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe

from eventpay.sandbox.stripe import BackgroundServer, RetryPolicy, create_app

FAST_RETRY = RetryPolicy(base_delay_s=0.05, factor=2.0, max_attempts=8, timeout_s=2.0)
WAIT_S = 10.0


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


def make_client(base_url: str, api_key: str = "sk_test_x", **kwargs: Any) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base_url, "connect": base_url, "files": base_url},
        max_network_retries=0,
        **kwargs,
    )


Waiter = Callable[..., Any]
ClientFactory = Callable[..., stripe.StripeClient]


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Waiter:
    """`wait_until(predicate, what)`: poll until truthy, fail after a generous deadline."""
    return wait_until


@pytest.fixture(name="make_client")
def make_client_fixture(sandbox_url: str) -> ClientFactory:
    """`make_client(api_key="sk_test_x", **StripeClient kwargs)` against the sandbox."""

    def factory(api_key: str = "sk_test_x", **kwargs: Any) -> stripe.StripeClient:
        return make_client(sandbox_url, api_key, **kwargs)

    return factory


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[str]:
    with BackgroundServer(create_app(webhook_retry=FAST_RETRY)) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def http_session(sandbox_server: str) -> Iterator[httpx.Client]:
    # One client for the session: building an httpx.Client costs more than a request.
    with httpx.Client(base_url=sandbox_server, timeout=5) as session:
        yield session


@pytest.fixture
def sandbox_url(sandbox_server: str, http_session: httpx.Client) -> str:
    """Base URL of the session's sandbox, reset to empty for this test."""
    http_session.post("/_sandbox/reset").raise_for_status()
    return sandbox_server


@pytest.fixture
def client(sandbox_url: str) -> stripe.StripeClient:
    return make_client(sandbox_url)


@pytest.fixture
def http(sandbox_url: str, http_session: httpx.Client) -> httpx.Client:
    """httpx against the (reset) sandbox, for routes the SDK does not cover."""
    return http_session


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records POSTs; answers each with the next queued status, then 200."""

    url: str
    statuses: deque[int] = field(default_factory=deque)
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                status = state.statuses.popleft() if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/stripe"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


ConnectedAccount = Callable[..., str]


@pytest.fixture
def connected_account(http: httpx.Client) -> ConnectedAccount:
    """`connected_account(**account params)`: a new Express account, onboarded (by the control
    route) so it can take destination charges, transfers and payouts; returns its id."""

    def create(**params: str) -> str:
        headers = {"Authorization": "Bearer sk_test_connect"}
        made = http.post("/v1/accounts", data={"type": "express", **params}, headers=headers)
        made.raise_for_status()
        acct_id: str = made.json()["id"]
        state = {"charges_enabled": True, "payouts_enabled": True, "currently_due": []}
        http.post(f"/_sandbox/accounts/{acct_id}/state", json=state).raise_for_status()
        return acct_id

    return create
