"""The Stripe adapter through the real SDK, against our sandbox and against localstripe.

The same scenarios run on both servers and must agree; sandbox-only scenarios (idempotency,
faults) are separate because localstripe does not implement them (see providers/README.md).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import CreatePayment, ProviderOutcomeUnknown, ProviderRejected
from eventpay.providers import StripeProvider, stripe_client
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox


def _request(amount: int = 4500) -> CreatePayment:
    payment_id = str(uuid.uuid4())
    return CreatePayment(
        payment_id=payment_id,
        order_id="order-1",
        amount=Money(amount, "usd"),
        idempotency_key=f"eventpay-payment-{payment_id}",
        description="eventpay order order-1",
        metadata={"payment_id": payment_id, "order_id": "order-1", "event_id": "spring"},
    )


class Backend:
    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self.client = stripe_client(secret_key="sk_test_adapter", api_base=url, timeout_s=5.0)
        omit = (
            frozenset({"automatic_payment_methods", "description"})
            if name == "localstripe"
            else frozenset()
        )
        self.provider = StripeProvider(self.client, omit_params=omit)

    def paid_intent(self, amount: int) -> str:
        """An intent that a customer paid successfully, reached the way each server allows."""
        if self.name == "localstripe":
            return self._localstripe_intent(amount, "4242424242424242")
        created = self.provider.create_payment(_request(amount))
        self.client.v1.payment_intents.confirm(
            created.provider_ref, {"payment_method": "pm_card_visa"}
        )
        return created.provider_ref

    def declined_intent(self, amount: int) -> str:
        if self.name == "localstripe":
            return self._localstripe_intent(amount, "4000000000000341")
        created = self.provider.create_payment(_request(amount))
        with pytest.raises(stripe.CardError):
            self.client.v1.payment_intents.confirm(
                created.provider_ref, {"payment_method": "pm_card_chargeDeclined"}
            )
        return created.provider_ref

    def _localstripe_intent(self, amount: int, number: str) -> str:
        method = self.client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }  # type: ignore[typeddict-item]
        )
        params: dict[str, Any] = {"amount": amount, "currency": "usd", "payment_method": method.id}
        intent = self.client.v1.payment_intents.create(params)  # type: ignore[arg-type]
        # localstripe answers 500 to confirm(payment_method=...); without it, it works.
        with contextlib.suppress(stripe.CardError):
            self.client.v1.payment_intents.confirm(intent.id)
        return str(intent.id)


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.fixture(params=["sandbox", "localstripe"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture = "own_sandbox" if request.param == "sandbox" else "localstripe_url"
    return Backend(request.param, request.getfixturevalue(fixture))


def test_create_and_retrieve_agree(backend: Backend) -> None:
    request = _request(4500)
    created = backend.provider.create_payment(request)
    assert created.provider_ref.startswith("pi_")
    assert created.status is PaymentStatus.CREATED
    assert created.amount == Money(4500, "usd")
    assert created.client_secret
    assert created.client_secret.startswith(created.provider_ref)
    fetched = backend.provider.retrieve_payment(created.provider_ref)
    assert fetched.provider_ref == created.provider_ref
    assert fetched.status is PaymentStatus.CREATED
    assert fetched.metadata["payment_id"] == request.payment_id


def test_cancel(backend: Backend) -> None:
    created = backend.provider.create_payment(_request())
    canceled = backend.provider.cancel_payment(
        created.provider_ref, idempotency_key=f"cancel-{uuid.uuid4()}"
    )
    assert canceled.status is PaymentStatus.CANCELED
    assert backend.provider.retrieve_payment(created.provider_ref).status is PaymentStatus.CANCELED


def test_paid_intent_reads_as_succeeded(backend: Backend) -> None:
    intent_id = backend.paid_intent(3000)
    paid = backend.provider.retrieve_payment(intent_id)
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.amount == Money(3000, "usd")
    # localstripe leaves amount_received out; real Stripe and the sandbox fill it.
    assert paid.amount_received == (None if backend.name == "localstripe" else 3000)


def test_declined_intent_reads_as_failed(backend: Backend) -> None:
    intent_id = backend.declined_intent(3100)
    failed = backend.provider.retrieve_payment(intent_id)
    assert failed.status is PaymentStatus.FAILED
    assert failed.failure_code


def test_missing_intent_is_a_rejection_not_unknown(backend: Backend) -> None:
    with pytest.raises(ProviderRejected):
        backend.provider.retrieve_payment("pi_doesnotexist000000000000")


def test_same_idempotency_key_returns_the_same_intent(own_sandbox: str) -> None:
    provider = Backend("sandbox", own_sandbox).provider
    request = _request()
    assert (
        provider.create_payment(request).provider_ref
        == provider.create_payment(request).provider_ref
    )


def test_unreachable_stripe_is_unknown() -> None:
    from support.net import free_port

    client = stripe_client(
        secret_key="sk_test_x", api_base=f"http://127.0.0.1:{free_port()}", timeout_s=1.0
    )
    with pytest.raises(ProviderOutcomeUnknown):
        StripeProvider(client).create_payment(_request())


def test_server_error_is_unknown(own_sandbox: str) -> None:
    fault = {"path_prefix": "/v1/payment_intents", "method": "POST", "mode": "http_500", "times": 1}
    httpx.post(f"{own_sandbox}/_sandbox/faults", json=fault).raise_for_status()
    try:
        with pytest.raises(ProviderOutcomeUnknown):
            Backend("sandbox", own_sandbox).provider.create_payment(_request())
    finally:
        httpx.delete(f"{own_sandbox}/_sandbox/faults")
