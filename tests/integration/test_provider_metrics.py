"""`eventpay_provider_call_seconds`: every call to a provider, against the real sandboxes.

The containers are built by the composition root, so these tests also prove that each adapter
is wrapped there (`providers.metered.MeteredProvider`), whatever use case makes the call.
"""

from __future__ import annotations

import uuid
from typing import cast

import pytest
from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.domain import Money
from eventpay.ports import (
    CreatePayment,
    DisputeProvider,
    PaymentProvider,
    ProviderMisconfigured,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from eventpay.serving import free_port
from support.stack import make_settings, seeded_container


def calls(container: Container, provider: str, operation: str, outcome: str) -> float:
    labels = {"provider": provider, "operation": operation, "outcome": outcome}
    count = container.metrics.registry.get_sample_value(
        "eventpay_provider_call_seconds_count", labels
    )
    return count or 0.0


def a_payment() -> CreatePayment:
    payment_id = str(uuid.uuid4())
    return CreatePayment(
        payment_id=payment_id,
        order_id="order-metrics",
        amount=Money(4500, "eur"),
        idempotency_key=f"eventpay-payment-{payment_id}",
        description="Car Audio Events order",
        metadata={"payment_id": payment_id},
    )


@pytest.mark.parametrize("name", [ProviderName.STRIPE, ProviderName.PAYPAL])
def test_a_call_that_answers_is_recorded_as_ok(container: Container, name: ProviderName) -> None:
    provider = container.providers[name]
    created = provider.create_payment(a_payment())
    provider.retrieve_payment(created.provider_ref)
    assert calls(container, name.value, "create_payment", "ok") == 1
    assert calls(container, name.value, "retrieve_payment", "ok") == 1
    seconds = container.metrics.registry.get_sample_value(
        "eventpay_provider_call_seconds_sum",
        {"provider": name.value, "operation": "create_payment", "outcome": "ok"},
    )
    assert seconds is not None
    assert seconds > 0


def test_a_refusal_is_recorded_as_rejected(container: Container) -> None:
    with pytest.raises(ProviderRejected):
        container.providers[ProviderName.STRIPE].retrieve_payment("pi_no_such_intent")
    assert calls(container, "stripe", "retrieve_payment", "rejected") == 1
    assert calls(container, "stripe", "retrieve_payment", "ok") == 0


def test_wrong_credentials_are_recorded_as_misconfigured(
    database_url: str, stripe_sandbox: str
) -> None:
    settings = make_settings(
        database_url, stripe_sandbox, stripe_secret_key="sk_rotated_away_0000", paypal_enabled=False
    )
    with seeded_container(settings) as container:
        with pytest.raises(ProviderMisconfigured):
            container.providers[ProviderName.STRIPE].create_payment(a_payment())
        assert calls(container, "stripe", "create_payment", "misconfigured") == 1


def test_no_answer_is_recorded_as_unknown(database_url: str, stripe_sandbox: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(database_url, stripe_sandbox, paypal_api_base=dead)
    with seeded_container(settings) as container:
        with pytest.raises(ProviderOutcomeUnknown) as unknown:
            container.providers[ProviderName.PAYPAL].create_payment(a_payment())
        assert not isinstance(unknown.value, ProviderMisconfigured)
        assert calls(container, "paypal", "create_payment", "unknown") == 1


def test_optional_capabilities_are_timed_and_absent_ones_stay_absent(
    container: Container,
) -> None:
    paypal: PaymentProvider = container.providers[ProviderName.PAYPAL]
    stripe: PaymentProvider = container.providers[ProviderName.STRIPE]
    assert paypal.capabilities.disputes
    cast(DisputeProvider, paypal).list_disputes()  # a DisputeProvider, as declared
    assert calls(container, "paypal", "list_disputes", "ok") == 1
    assert (paypal.name, stripe.name) == (ProviderName.PAYPAL, ProviderName.STRIPE)
    assert hasattr(stripe, "create_payout") is stripe.capabilities.payouts


def test_parsing_events_asks_no_provider_and_records_nothing(container: Container) -> None:
    stripe = container.providers[ProviderName.STRIPE]
    assert stripe.parse_event("customer.created", {"data": {"object": {}}}) is None
    assert stripe.refusal_for(Money(100, "eur")) is None
    assert calls(container, "stripe", "parse_event", "ok") == 0
    assert calls(container, "stripe", "refusal_for", "ok") == 0


def test_the_metric_is_exported(client: TestClient, container: Container) -> None:
    container.providers[ProviderName.STRIPE].create_payment(a_payment())
    exported = client.get("/metrics").text
    assert (
        'eventpay_provider_call_seconds_count{operation="create_payment",outcome="ok",'
        'provider="stripe"} 1.0'
    ) in exported
