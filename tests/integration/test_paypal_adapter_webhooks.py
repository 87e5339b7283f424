"""PayPal webhooks as the sandbox really delivers them, verified by the adapter's verifiers.

A tiny receiver app takes the sandbox's deliveries (signed with the sandbox's own certificate,
served at its `/v1/notifications/certs/...`). `PayPalWebhookVerifier` accepts them when the
sandbox's host is allow-listed, as the composition root does outside production
(`cert_hosts_for`), and refuses them (`cert_url_not_allowed`) with PayPal's live hosts alone;
tampered bodies and another webhook id fail; the postback verifier agrees.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import CreatePayment, WebhookRejected
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_certs import cert_hosts_for
from eventpay.providers.paypal_webhook import PayPalWebhookVerifier
from eventpay.providers.paypal_webhook_postback import PayPalPostbackVerifier
from eventpay.sandbox.paypal import BackgroundServer, RetryPolicy, create_app

CLIENT_ID = "eventpay-webhook-test"
CLIENT_SECRET = "webhook-test-secret"
WEBHOOK_ID = "WH7ADAPTERTEST"
WAIT_S = 10.0


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]


class Receiver:
    """A webhook endpoint that records what the sandbox delivers."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    async def hook(self, request: Request) -> Response:
        delivery = Delivery(await request.body(), dict(request.headers))
        with self._lock:
            self.deliveries.append(delivery)
        return Response(status_code=200)

    def find(self, event_type: str, resource_id: str) -> Delivery:
        wanted = f'"event_type":"{event_type}"'.encode()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self._lock:
                found = [
                    d
                    for d in self.deliveries
                    if wanted in d.body and resource_id.encode() in d.body
                ]
            if found:
                return found[0]
            time.sleep(0.02)
        pytest.fail(f"the sandbox delivered no {event_type} for {resource_id}")


@dataclass(frozen=True)
class Sandbox:
    url: str
    receiver: Receiver

    @property
    def cert_hosts(self) -> tuple[str, ...]:
        """What the composition root trusts outside production with this sandbox configured."""
        return cert_hosts_for(self.url, production=False)

    def approved_order(self, paypal: PayPalProvider) -> tuple[str, str]:
        """A new order the buyer approved: (order id, our payment id)."""
        payment_id = str(uuid.uuid4())
        order_id = paypal.create_payment(
            CreatePayment(
                payment_id=payment_id,
                order_id="order-w",
                amount=Money(4500, "usd"),
                idempotency_key=f"eventpay-payment-{payment_id}",
                description="Car Audio Events order",
                metadata={},
            )
        ).provider_ref
        answer = httpx.post(f"{self.url}/_sandbox/orders/{order_id}/approve", timeout=5.0)
        assert answer.status_code == 200
        return order_id, payment_id


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    receiver = Receiver()
    hooks = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    with BackgroundServer(hooks) as endpoint:
        app = create_app(
            environment="test",
            webhooks=[(f"{endpoint.base_url}/hook", WEBHOOK_ID)],
            webhook_retry=RetryPolicy(base_delay_s=0.05, max_attempts=3, timeout_s=2.0),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
        with BackgroundServer(app) as server:
            yield Sandbox(server.base_url, receiver)


@pytest.fixture
def paypal(sandbox: Sandbox) -> Iterator[PayPalProvider]:
    provider = PayPalProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=sandbox.url, timeout_s=5.0
    )
    yield provider
    provider.close()


@pytest.fixture
def verifier_for() -> Iterator[Callable[..., PayPalWebhookVerifier]]:
    made: list[PayPalWebhookVerifier] = []

    def make(**kwargs: Any) -> PayPalWebhookVerifier:
        made.append(PayPalWebhookVerifier(**kwargs))
        return made[-1]

    yield make
    for verifier in made:
        verifier.close()


def test_a_real_sandbox_delivery_is_verified_and_parsed(
    sandbox: Sandbox, paypal: PayPalProvider, verifier_for: Callable[..., PayPalWebhookVerifier]
) -> None:
    order_id, payment_id = sandbox.approved_order(paypal)
    captured = paypal.capture_payment(order_id, idempotency_key=f"eventpay-capture-{payment_id}")
    assert captured.capture_id is not None
    delivery = sandbox.receiver.find("PAYMENT.CAPTURE.COMPLETED", captured.capture_id)
    verifier = verifier_for(webhook_id=WEBHOOK_ID, allowed_cert_hosts=sandbox.cert_hosts)

    verified = verifier.verify(delivery.body, delivery.headers)

    assert verified.type == "PAYMENT.CAPTURE.COMPLETED"
    update = paypal.parse_event(verified.type, verified.payload)
    assert update is not None
    assert (update.provider_ref, update.status, update.capture_id) == (
        order_id,
        PaymentStatus.SUCCEEDED,
        captured.capture_id,
    )
    assert update.payment_id_hint == payment_id
    assert update.amount_received == 4500

    approval = sandbox.receiver.find("CHECKOUT.ORDER.APPROVED", order_id)
    event = verifier.verify(approval.body, approval.headers)
    approved_update = paypal.parse_event(event.type, event.payload)
    assert approved_update is not None
    assert approved_update.capture_required
    assert approved_update.payment_id_hint == payment_id


def test_the_sandbox_certificate_is_refused_unless_its_host_is_allowed(
    sandbox: Sandbox, paypal: PayPalProvider, verifier_for: Callable[..., PayPalWebhookVerifier]
) -> None:
    order_id, _ = sandbox.approved_order(paypal)
    delivery = sandbox.receiver.find("CHECKOUT.ORDER.APPROVED", order_id)
    production = verifier_for(webhook_id=WEBHOOK_ID)  # PayPal's live hosts only
    with pytest.raises(WebhookRejected) as refused:
        production.verify(delivery.body, delivery.headers)
    assert refused.value.code == "cert_url_not_allowed"


def test_a_tampered_delivery_or_another_webhook_id_is_refused(
    sandbox: Sandbox, paypal: PayPalProvider, verifier_for: Callable[..., PayPalWebhookVerifier]
) -> None:
    order_id, _ = sandbox.approved_order(paypal)
    delivery = sandbox.receiver.find("CHECKOUT.ORDER.APPROVED", order_id)
    hosts = sandbox.cert_hosts
    ours = verifier_for(webhook_id=WEBHOOK_ID, allowed_cert_hosts=hosts)
    theirs = verifier_for(webhook_id="WH9SOMEONEELSE", allowed_cert_hosts=hosts)
    tampered = delivery.body.replace(b'"APPROVED"', b'"COMPLETED"')
    assert tampered != delivery.body
    for verifier, body in ((ours, tampered), (theirs, delivery.body)):
        with pytest.raises(WebhookRejected) as refused:
            verifier.verify(body, delivery.headers)
        assert refused.value.code == "signature_mismatch"


def test_the_postback_verifier_agrees(sandbox: Sandbox, paypal: PayPalProvider) -> None:
    order_id, _ = sandbox.approved_order(paypal)
    delivery = sandbox.receiver.find("CHECKOUT.ORDER.APPROVED", order_id)
    postback = PayPalPostbackVerifier(api=paypal.api, webhook_id=WEBHOOK_ID)
    assert postback.verify(delivery.body, delivery.headers).type == "CHECKOUT.ORDER.APPROVED"
    tampered = delivery.body.replace(b'"APPROVED"', b'"COMPLETED"')
    with pytest.raises(WebhookRejected) as refused:
        postback.verify(tampered, delivery.headers)
    assert refused.value.code == "signature_mismatch"
