"""A currency or amount a provider cannot take is refused when the order or payment is made.

Before: nothing checked, and the buyer met the provider's refusal (or a wrong charge) only
when paying. Now: 422 `currency_not_supported` before any provider call.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventpay.ports import ProviderName
from eventpay.services import orders, payments
from eventpay.services.errors import InvalidRequest
from eventpay.services.webhooks import RetryPolicy

from .fakes import FakeProvider
from .scenario import BUYER, EXPIRES_IN, FEE_POLICY, World, item


def test_an_order_no_provider_can_take_is_refused_with_422(world: World) -> None:
    world.provider.currencies = frozenset({"eur"})  # the demo events sell in usd

    with pytest.raises(InvalidRequest) as refused:
        orders.create_order(
            uow=world.uow_factory(),
            buyer=BUYER,
            items=[item()],
            promo_code=None,
            fee_policy=FEE_POLICY,
            now=world.clock(),
            expires_in=EXPIRES_IN,
            providers=world.providers,
        )

    assert refused.value.code == "currency_not_supported"
    assert "USD" in refused.value.message
    assert world.store.tables.orders == {}


def test_a_payment_with_a_provider_that_cannot_take_the_currency_names_the_other(
    world: World,
) -> None:
    order_id = world.place_order().order.id
    paypal = FakeProvider()
    paypal.name = ProviderName.PAYPAL  # type: ignore[misc]
    paypal.currencies = frozenset({"eur"})
    providers = {ProviderName.STRIPE: world.provider, ProviderName.PAYPAL: paypal}

    with pytest.raises(InvalidRequest) as refused:
        payments.start_payment(
            uow_factory=world.uow_factory,
            providers=providers,  # type: ignore[arg-type]
            caller=BUYER,
            order_id=order_id,
            provider=ProviderName.PAYPAL,
            return_url=None,
            clock=world.clock,
        )

    assert refused.value.code == "currency_not_supported"
    assert refused.value.details["available"] == ["stripe"]
    assert world.store.payments == []  # no attempt, no provider call
    assert paypal.create_requests == []


def test_webhook_retries_that_failed_together_come_back_spread_out() -> None:
    early = RetryPolicy(jitter=lambda: 0.0).delay_after(3)
    late = RetryPolicy(jitter=lambda: 0.9).delay_after(3)
    assert early == timedelta(seconds=4)
    assert timedelta(seconds=4) < late < timedelta(seconds=8)
