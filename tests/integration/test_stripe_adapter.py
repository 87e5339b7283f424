"""The Stripe adapter through the real SDK, against our sandbox and against localstripe.

The same scenarios run on both servers and must agree; sandbox-only scenarios (idempotency,
faults, PaymentIntent search) are separate because localstripe does not implement them (see
providers/README.md). Currencies: JPY, ISK (5 kr is 500 at Stripe), KWD and EUR cross the
adapter in Stripe's units; localstripe takes any amount, so only the conversion is checked
there, while the sandbox also enforces Stripe's steps. The error classes are tested against the
sandbox's faults in tests/integration/sandbox/test_stripe_adapter_errors.py.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import (
    CreatePayment,
    DisputeProvider,
    InvoiceProvider,
    PayoutProvider,
    ProviderOutcomeUnknown,
    ProviderRejected,
    RefundRequest,
)
from eventpay.providers import StripeProvider, stripe_client
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox


def _request(amount: int = 4500, currency: str = "usd") -> CreatePayment:
    payment_id = str(uuid.uuid4())
    return CreatePayment(
        payment_id=payment_id,
        order_id="order-1",
        amount=Money(amount, currency),
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

    def paid_intent(self, amount: int, currency: str = "usd") -> str:
        """An intent that a customer paid successfully, reached the way each server allows.

        `amount` is in Stripe's units (5 ISK is 500), as the servers take it.
        """
        if self.name == "localstripe":
            return self._localstripe_intent(amount, "4242424242424242", currency)
        params: dict[str, Any] = {"amount": amount, "currency": currency}
        intent_id = str(self.client.v1.payment_intents.create(params).id)  # type: ignore[arg-type]
        self.client.v1.payment_intents.confirm(intent_id, {"payment_method": "pm_card_visa"})
        return intent_id

    def declined_intent(self, amount: int) -> str:
        if self.name == "localstripe":
            return self._localstripe_intent(amount, "4000000000000341")
        created = self.provider.create_payment(_request(amount))
        with pytest.raises(stripe.CardError):
            self.client.v1.payment_intents.confirm(
                created.provider_ref, {"payment_method": "pm_card_chargeDeclined"}
            )
        return created.provider_ref

    def _localstripe_intent(self, amount: int, number: str, currency: str = "usd") -> str:
        method = self.client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }  # type: ignore[typeddict-item]
        )
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "payment_method": method.id,
        }
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


# Currencies (the old adapter sent Money.amount as it was: 5 ISK went out as 0.05 ISK)

CURRENCIES = [("jpy", 4500, 4500), ("isk", 5, 500), ("kwd", 1230, 1230), ("eur", 4550, 4550)]


@pytest.mark.parametrize(("currency", "ours", "at_stripe"), CURRENCIES)
def test_amounts_cross_in_stripes_units(
    backend: Backend, currency: str, ours: int, at_stripe: int
) -> None:
    created = backend.provider.create_payment(_request(ours, currency))
    raw = backend.client.v1.payment_intents.retrieve(created.provider_ref)
    paid = backend.provider.retrieve_payment(backend.paid_intent(at_stripe, currency))

    assert created.amount == Money(ours, currency)
    assert (raw.amount, raw.currency) == (at_stripe, currency)
    assert paid.amount == Money(ours, currency)
    assert paid.status is PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(("currency", "ours", "at_stripe"), CURRENCIES)
def test_refunds_cross_in_stripes_units_and_are_found_again(
    backend: Backend, currency: str, ours: int, at_stripe: int
) -> None:
    intent_id = backend.paid_intent(at_stripe, currency)
    refund_id = str(uuid.uuid4())
    request = RefundRequest(
        refund_id=refund_id,
        payment_provider_ref=intent_id,
        capture_id=None,
        amount=Money(ours, currency),
        idempotency_key=f"eventpay-refund-{refund_id}",
        reason="customer asked",
    )

    refund = backend.provider.refund_payment(request)
    again = backend.provider.retrieve_refund(refund.provider_refund_id)
    listed = backend.provider.find_refunds(payment_provider_ref=intent_id, capture_id=None)

    raw = backend.client.v1.refunds.retrieve(refund.provider_refund_id)
    assert raw.amount == at_stripe
    assert refund.amount == again.amount == Money(ours, currency)
    assert again.refund_id_hint == refund_id
    assert [(r.provider_refund_id, r.refund_id_hint) for r in listed] == [
        (refund.provider_refund_id, refund_id)
    ]


def test_find_refunds_follows_every_page(backend: Backend) -> None:
    intent_id = backend.paid_intent(10_000, "eur")
    made = set()
    for _ in range(3):
        made.add(backend.provider.refund_payment(_refund(intent_id, 100)).provider_refund_id)
    # Stripe's pages hold at most 100; pages of 2 make the adapter follow has_more twice.
    provider = StripeProvider(backend.client, page_size=2)
    found = provider.find_refunds(payment_provider_ref=intent_id, capture_id=None)

    assert {r.provider_refund_id for r in found} == made
    assert len(found) == 3


def test_what_stripe_cannot_take_is_refused_before_any_call() -> None:
    from support.net import free_port

    # Nothing listens there: a call would be ProviderOutcomeUnknown, never a refusal.
    client = stripe_client(
        secret_key="sk_test_x", api_base=f"http://127.0.0.1:{free_port()}", timeout_s=1.0
    )
    provider = StripeProvider(client)
    for amount in (Money(1235, "kwd"), Money(1000, "iqd")):
        assert provider.refusal_for(amount)
        with pytest.raises(ProviderRejected) as created:
            provider.create_payment(_request(amount.amount, amount.currency))
        with pytest.raises(ProviderRejected) as refunded:
            provider.refund_payment(_refund("pi_x", amount.amount, amount.currency))
        assert created.value.code == refunded.value.code == "unsupported_amount"
        assert created.value.message == provider.refusal_for(amount)


# Lookups after a key expired (sandbox only: localstripe has no search)


def test_find_payment_finds_the_intent_of_our_attempt(own_sandbox: str) -> None:
    backend = Backend("sandbox", own_sandbox)
    request = _request(4500, "eur")
    created = backend.provider.create_payment(request)
    backend.provider.create_payment(_request(4500, "eur"))  # another attempt

    found = backend.provider.find_payment(payment_id=request.payment_id)
    nothing = backend.provider.find_payment(payment_id=str(uuid.uuid4()))

    assert found is not None
    assert found.provider_ref == created.provider_ref
    assert found.metadata["payment_id"] == request.payment_id
    assert nothing is None


def test_find_payment_prefers_the_intent_that_moved_money(own_sandbox: str) -> None:
    backend = Backend("sandbox", own_sandbox)
    request = _request(4500, "eur")
    first = backend.provider.create_payment(request)
    backend.client.v1.payment_intents.confirm(
        first.provider_ref, {"payment_method": "pm_card_visa"}
    )
    # The same attempt created again after its key expired: a newer, unpaid intent.
    backend.client.v1.payment_intents.create(
        {"amount": 4500, "currency": "eur", "metadata": dict(request.metadata)}  # type: ignore[typeddict-item]
    )

    found = backend.provider.find_payment(payment_id=request.payment_id)

    assert found is not None
    assert (found.provider_ref, found.status) == (first.provider_ref, PaymentStatus.SUCCEEDED)


def test_capabilities_say_exactly_what_the_adapter_does(own_sandbox: str) -> None:
    """Every capability StripeProvider declares true is called here, against the sandbox."""
    provider = Backend("sandbox", own_sandbox).provider
    declared = provider.capabilities
    assert (declared.payouts, declared.disputes, declared.invoicing) == (False, False, False)
    assert declared.idempotency_window == timedelta(hours=24)
    # Declared false because not implemented: none of the PayoutProvider, DisputeProvider or
    # InvoiceProvider methods exists (the old adapter declared payouts and disputes).
    for port in (PayoutProvider, DisputeProvider, InvoiceProvider):
        for method in (name for name in vars(port) if not name.startswith("_")):
            assert not hasattr(provider, method), method

    request = _request(4000, "eur")
    created = provider.create_payment(request)
    assert declared.client_confirmation
    assert created.client_secret
    httpx.post(
        f"{own_sandbox}/v1/payment_intents/{created.provider_ref}/confirm",
        data={
            "key": "pk_test_capabilities",
            "client_secret": created.client_secret,
            "payment_method": "pm_card_visa",
        },
    ).raise_for_status()
    assert declared.payment_lookup
    found = provider.find_payment(payment_id=request.payment_id)
    assert found is not None
    assert found.status is PaymentStatus.SUCCEEDED
    assert declared.partial_refund
    part = provider.refund_payment(_refund(created.provider_ref, 1500, "eur"))
    assert part.amount == Money(1500, "eur")
    assert provider.retrieve_payment(created.provider_ref).status is PaymentStatus.SUCCEEDED
    assert declared.reconciliation
    charge = provider.retrieve_payment(created.provider_ref).capture_id
    now = datetime.now(UTC)
    listed = {
        m.ref: m
        for m in provider.movements(since=now - timedelta(hours=1), until=now + timedelta(hours=1))
    }
    assert charge is not None
    assert (listed[charge].kind, listed[charge].amount) == ("payment", Money(4000, "eur"))
    assert listed[charge].fee is not None
    assert listed[part.provider_refund_id].amount == Money(-1500, "eur")


def _refund(intent_id: str, amount: int, currency: str = "eur") -> RefundRequest:
    refund_id = str(uuid.uuid4())
    return RefundRequest(
        refund_id=refund_id,
        payment_provider_ref=intent_id,
        capture_id=None,
        amount=Money(amount, currency),
        idempotency_key=f"eventpay-refund-{refund_id}",
        reason="test",
    )
