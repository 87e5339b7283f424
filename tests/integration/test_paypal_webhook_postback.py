"""`POST /v1/webhooks/paypal` with `paypal_verification=postback`, against the PayPal sandbox.

The sandbox signs real deliveries of its events to two subscriptions: ours (`WEBHOOK_ID`) and
a stranger's (`OTHER_WEBHOOK_ID`), both caught by a small receiver app. The tests then hand
those deliveries, byte for byte, to the service's route, which asks the sandbox's
`/v1/notifications/verify-webhook-signature` whether each is genuine: a genuine one is stored
once, a forged one (tampered body, another webhook's delivery, a made-up signature) is a 400
that stores nothing, and when PayPal cannot be asked the delivery is refused, not trusted.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from eventpay.bootstrap import Container
from eventpay.domain import Money
from eventpay.ports import CreatePayment, ProviderName
from eventpay.sandbox.paypal import BackgroundServer, RetryPolicy, create_app
from eventpay.web import create_app as create_service
from support.stack import make_settings, seeded_container

URL = "/v1/webhooks/paypal"
VERIFY_PATH = "/v1/notifications/verify-webhook-signature"
CLIENT_ID = "eventpay-postback-test"
CLIENT_SECRET = "postback-test-secret"
WEBHOOK_ID = "WH7POSTBACKOURS"
OTHER_WEBHOOK_ID = "WH7POSTBACKTHEIRS"
WAIT_S = 10.0


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]

    def forwarded(self, **replace: str) -> dict[str, str]:
        """The PAYPAL-* headers as they arrived (and the content type), with `replace` applied."""
        kept = {k: v for k, v in self.headers.items() if k.startswith("paypal-")}
        kept["content-type"] = self.headers.get("content-type", "application/json")
        return {**kept, **{k.lower(): v for k, v in replace.items()}}


class Receiver:
    """Webhook endpoints `/ours` and `/theirs` that record what the sandbox delivers."""

    def __init__(self) -> None:
        self._seen: list[tuple[str, Delivery]] = []
        self._lock = threading.Lock()

    async def hook(self, request: Request) -> Response:
        delivery = Delivery(await request.body(), dict(request.headers))
        with self._lock:
            self._seen.append((request.url.path, delivery))
        return Response(status_code=200)

    def find(self, path: str, event_type: str, resource_id: str) -> Delivery:
        wanted = f'"event_type":"{event_type}"'.encode()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self._lock:
                found = [
                    d
                    for p, d in self._seen
                    if p == path and wanted in d.body and resource_id.encode() in d.body
                ]
            if found:
                return found[0]
            time.sleep(0.02)
        pytest.fail(f"the sandbox delivered no {event_type} for {resource_id} to {path}")


@dataclass(frozen=True)
class Sandbox:
    url: str
    receiver: Receiver


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    receiver = Receiver()
    hooks = Starlette(
        routes=[Route(path, receiver.hook, methods=["POST"]) for path in ("/ours", "/theirs")]
    )
    with BackgroundServer(hooks) as endpoint:
        app = create_app(
            environment="test",
            webhooks=[
                (f"{endpoint.base_url}/ours", WEBHOOK_ID),
                (f"{endpoint.base_url}/theirs", OTHER_WEBHOOK_ID),
            ],
            webhook_retry=RetryPolicy(base_delay_s=0.05, max_attempts=3, timeout_s=2.0),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
        with BackgroundServer(app) as server:
            yield Sandbox(server.base_url, receiver)


@pytest.fixture
def container(database_url: str, stripe_sandbox: str, sandbox: Sandbox) -> Iterator[Container]:
    settings = make_settings(
        database_url,
        stripe_sandbox,
        paypal_api_base=sandbox.url,
        paypal_client_id=CLIENT_ID,
        paypal_client_secret=CLIENT_SECRET,
        paypal_webhook_id=WEBHOOK_ID,
        paypal_verification="postback",
        paypal_timeout_s=5.0,
    )
    with seeded_container(settings) as built:
        yield built


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    app = create_service(container=container)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def approval_deliveries(container: Container, sandbox: Sandbox) -> tuple[Delivery, Delivery]:
    """A new PayPal order, approved by the buyer: its CHECKOUT.ORDER.APPROVED, (ours, theirs)."""
    payment_id = str(uuid.uuid4())
    order_id = (
        container.providers[ProviderName.PAYPAL]
        .create_payment(
            CreatePayment(
                payment_id=payment_id,
                order_id="order-postback",
                amount=Money(4500, "usd"),
                idempotency_key=f"eventpay-payment-{payment_id}",
                description="Car Audio Events order",
                metadata={},
            )
        )
        .provider_ref
    )
    approved = httpx.post(f"{sandbox.url}/_sandbox/orders/{order_id}/approve", timeout=5.0)
    assert approved.status_code == 200, approved.text
    event = "CHECKOUT.ORDER.APPROVED"
    return (
        sandbox.receiver.find("/ours", event, order_id),
        sandbox.receiver.find("/theirs", event, order_id),
    )


def event_id_of(delivery: Delivery) -> str:
    event_id: str = json.loads(delivery.body)["id"]
    return event_id


def stored(container: Container) -> list[str]:
    with container.uow_factory() as uow:
        return [e.event_id for e in uow.webhooks.list(status=None, limit=100)]


def refused_with(client: TestClient, body: bytes, headers: dict[str, str]) -> str:
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 400, response.text
    code: str = response.json()["error"]["code"]
    return code


def test_a_genuine_delivery_is_verified_by_paypal_and_stored_once(
    client: TestClient, container: Container, sandbox: Sandbox
) -> None:
    ours, _ = approval_deliveries(container, sandbox)
    event_id = event_id_of(ours)

    first = client.post(URL, content=ours.body, headers=ours.forwarded())
    again = client.post(URL, content=ours.body, headers=ours.forwarded())

    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == {"received": True, "event_id": event_id, "duplicate": False}
    assert again.json()["duplicate"] is True
    assert stored(container) == [event_id]


def test_forged_deliveries_are_400_and_store_nothing(
    client: TestClient, container: Container, sandbox: Sandbox
) -> None:
    ours, theirs = approval_deliveries(container, sandbox)
    tampered = ours.body.replace(b'"APPROVED"', b'"COMPLETED"')
    assert tampered != ours.body
    made_up = base64.b64encode(b"\x01" * 256).decode()

    forgeries = [
        (tampered, ours.forwarded()),  # a genuine signature over another body
        (theirs.body, theirs.forwarded()),  # PayPal's delivery to someone else's webhook
        (ours.body, ours.forwarded(**{"PAYPAL-TRANSMISSION-SIG": made_up})),
    ]
    for body, headers in forgeries:
        assert refused_with(client, body, headers) == "signature_mismatch"
    assert stored(container) == []

    # The same service takes the genuine delivery: the refusals above were about the forgeries.
    accepted = client.post(URL, content=ours.body, headers=ours.forwarded())
    assert accepted.status_code == 200, accepted.text
    assert stored(container) == [event_id_of(ours)]


def test_a_delivery_is_refused_while_paypal_cannot_be_asked(
    client: TestClient, container: Container, sandbox: Sandbox
) -> None:
    ours, _ = approval_deliveries(container, sandbox)
    fault = {"path_prefix": VERIFY_PATH, "mode": "http_500", "times": 5}
    assert httpx.post(f"{sandbox.url}/_sandbox/faults", json=fault).status_code == 201
    try:
        assert refused_with(client, ours.body, ours.forwarded()) == "verification_unavailable"
        assert stored(container) == []
    finally:
        httpx.delete(f"{sandbox.url}/_sandbox/faults").raise_for_status()
    # PayPal delivers again later; by then it can be asked.
    assert client.post(URL, content=ours.body, headers=ours.forwarded()).status_code == 200
    assert stored(container) == [event_id_of(ours)]
