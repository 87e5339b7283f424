"""`StripeProvider.refund_payment` through the real SDK, against our sandbox and localstripe.

Full and partial refunds run on both servers and must agree. The refund cap (never more than
what is left of the charge) is tested on the sandbox only: localstripe 1.15.10 does not cap
refunds. Its `Refund` accepts any positive amount and, without one, refunds the whole charge
again, never looking at what was already refunded (`localstripe.resources.Refund.__init__`), so
the same test would fail there because of localstripe, not because of the adapter. Idempotency
and the refund test cards are sandbox-only for the same reason: localstripe has neither.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from eventpay.domain import Money
from eventpay.ports import (
    CreatePayment,
    ProviderRefund,
    ProviderRefundStatus,
    ProviderRejected,
    RefundRequest,
)
from eventpay.providers import StripeProvider, stripe_client
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox


def _refund_request(intent_id: str, amount: int) -> RefundRequest:
    refund_id = str(uuid.uuid4())
    return RefundRequest(
        refund_id=refund_id,
        payment_provider_ref=intent_id,
        capture_id=None,
        amount=Money(amount, "usd"),
        idempotency_key=f"eventpay-refund-{refund_id}",
        reason="customer asked",
    )


class Backend:
    """One Stripe-like server, the SDK client pointed at it and the service's adapter."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.client = stripe_client(secret_key="sk_test_refunds", api_base=url, timeout_s=5.0)
        omit = (
            frozenset({"automatic_payment_methods", "description"})
            if name == "localstripe"
            else frozenset()
        )
        self.provider = StripeProvider(self.client, omit_params=omit)

    def paid_intent(self, amount: int, payment_method: str = "pm_card_visa") -> str:
        """An intent a customer paid, reached the way each server allows."""
        if self.name == "localstripe":
            return self._localstripe_paid_intent(amount)
        payment_id = str(uuid.uuid4())
        created = self.provider.create_payment(
            CreatePayment(
                payment_id=payment_id,
                order_id="order-1",
                amount=Money(amount, "usd"),
                idempotency_key=f"eventpay-payment-{payment_id}",
                description="eventpay order order-1",
                metadata={"payment_id": payment_id, "order_id": "order-1"},
            )
        )
        self.client.v1.payment_intents.confirm(
            created.provider_ref, {"payment_method": payment_method}
        )
        return created.provider_ref

    def unpaid_intent(self, amount: int) -> str:
        params: dict[str, Any] = {"amount": amount, "currency": "usd"}
        return str(self.client.v1.payment_intents.create(params).id)  # type: ignore[arg-type]

    def _localstripe_paid_intent(self, amount: int) -> str:
        method = self.client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2034,
                    "cvc": "123",
                },
            }  # type: ignore[typeddict-item]
        )
        params: dict[str, Any] = {"amount": amount, "currency": "usd", "payment_method": method.id}
        intent = self.client.v1.payment_intents.create(params)  # type: ignore[arg-type]
        # localstripe answers 500 to confirm(payment_method=...); without it, it works.
        with contextlib.suppress(stripe.CardError):
            self.client.v1.payment_intents.confirm(intent.id)
        assert self.client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
        return str(intent.id)

    def refund(self, intent_id: str, amount: int) -> ProviderRefund:
        return self.provider.refund_payment(_refund_request(intent_id, amount))

    def refunds_of(self, intent_id: str) -> list[stripe.Refund]:
        return list(self.client.v1.refunds.list(params={"payment_intent": intent_id}).data)


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test", refund_delay_s=0.2)) as server:
        yield server.base_url


@pytest.fixture(params=["sandbox", "localstripe"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture = "own_sandbox" if request.param == "sandbox" else "localstripe_url"
    return Backend(request.param, request.getfixturevalue(fixture))


@pytest.fixture
def sandbox(own_sandbox: str) -> Backend:
    return Backend("sandbox", own_sandbox)


# Both servers


def test_full_refund_agrees(backend: Backend) -> None:
    intent_id = backend.paid_intent(4500)

    refund = backend.refund(intent_id, 4500)

    assert refund.provider_refund_id.startswith("re_")
    assert refund.status is ProviderRefundStatus.SUCCEEDED
    assert refund.amount == Money(4500, "usd")
    assert refund.failure_reason is None
    stored = backend.client.v1.refunds.retrieve(refund.provider_refund_id)
    assert stored.amount == 4500
    assert stored.metadata["reason"] == "customer asked"


def test_partial_refunds_agree(backend: Backend) -> None:
    intent_id = backend.paid_intent(4500)

    first = backend.refund(intent_id, 1000)
    second = backend.refund(intent_id, 500)

    assert [first.status, second.status] == [ProviderRefundStatus.SUCCEEDED] * 2
    assert [first.amount, second.amount] == [Money(1000, "usd"), Money(500, "usd")]
    assert first.provider_refund_id != second.provider_refund_id
    listed = backend.refunds_of(intent_id)
    assert sorted(r.amount for r in listed) == [500, 1000]
    assert {r.id for r in listed} == {first.provider_refund_id, second.provider_refund_id}


def test_refund_of_an_unpaid_intent_is_rejected(backend: Backend) -> None:
    intent_id = backend.unpaid_intent(4500)

    with pytest.raises(ProviderRejected) as caught:
        backend.refund(intent_id, 4500)

    # localstripe sends no error code; the sandbox sends Stripe's.
    if backend.name == "sandbox":
        assert caught.value.code == "charge_not_refundable"


# Sandbox only (see the module docstring)


def test_refunds_up_to_the_charge_amount_then_amount_too_large(sandbox: Backend) -> None:
    intent_id = sandbox.paid_intent(4500)

    sandbox.refund(intent_id, 3000)
    with pytest.raises(ProviderRejected) as caught:
        sandbox.refund(intent_id, 2000)
    last = sandbox.refund(intent_id, 1500)

    assert caught.value.code == "amount_too_large"
    assert last.status is ProviderRefundStatus.SUCCEEDED
    charge = sandbox.client.v1.charges.list(params={"payment_intent": intent_id}).data[0]
    assert (charge.amount_refunded, charge.refunded) == (4500, True)


def test_same_idempotency_key_returns_the_same_refund(sandbox: Backend) -> None:
    intent_id = sandbox.paid_intent(4500)
    request = _refund_request(intent_id, 1000)

    first = sandbox.provider.refund_payment(request)
    again = sandbox.provider.refund_payment(request)

    assert again == first
    assert [r.id for r in sandbox.refunds_of(intent_id)] == [first.provider_refund_id]


def test_pending_refund_reads_as_pending(sandbox: Backend) -> None:
    intent_id = sandbox.paid_intent(4500, "pm_card_pendingRefund")

    refund = sandbox.refund(intent_id, 4500)

    assert refund.status is ProviderRefundStatus.PENDING


def test_refund_that_fails_later_first_reads_as_succeeded(sandbox: Backend) -> None:
    # Stripe reports a pm_card_refundFail refund as succeeded; only refund.failed tells more.
    intent_id = sandbox.paid_intent(4500, "pm_card_refundFail")

    refund = sandbox.refund(intent_id, 4500)

    assert refund.status is ProviderRefundStatus.SUCCEEDED
    assert refund.failure_reason is None
