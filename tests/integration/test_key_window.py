"""Never twice, even after the provider forgot the idempotency key (Stripe: about 24 hours).

The real `StripeProvider` (official SDK) against the project's Stripe sandbox, whose keys are
aged past their window through its control route, and the core's janitor running a day later,
on SQLite and PostgreSQL. On the code before the fix the janitor re-sent the refund (and the
PaymentIntent create) with the old key, which the provider no longer remembered: a second
refund, a second intent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from eventpay.bootstrap import Container
from eventpay.domain import Money, PaymentStatus, RefundKind, RefundStatus
from eventpay.ports import (
    Principal,
    ProviderName,
    ProviderOutcomeUnknown,
    RefundRequest,
    Role,
)
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.services import janitor, orders, payments
from eventpay.services.errors import Unavailable
from eventpay.services.payment_calls import create_request
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import record_provider_answer, request_refund
from support.api import confirm_at_sandbox
from support.stack import make_settings, seeded_container

BUYER = Principal(user_id="competitor-key-window", role=Role.COMPETITOR)
A_DAY_AND_MORE = timedelta(hours=30)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.fixture
def container(database_url: str, sandbox: str) -> Iterator[Container]:
    with seeded_container(make_settings(database_url, sandbox)) as built:
        yield built


def _age_keys(sandbox: str) -> None:
    answer = httpx.post(
        f"{sandbox}/_sandbox/idempotency/age", json={"seconds": A_DAY_AND_MORE.total_seconds()}
    )
    answer.raise_for_status()


def _order(c: Container) -> str:
    return orders.create_order(
        uow=c.uow_factory(),
        buyer=BUYER,
        items=[orders.RegistrationItem(event_id="spring-sound-off", class_ids=("spring-spl",))],
        promo_code=None,
        fee_policy=c.fee_policy,
        now=c.clock(),
        expires_in=timedelta(hours=1),
    ).order.id


def _paid(c: Container, sandbox: str) -> Any:
    started = payments.start_payment(
        uow_factory=c.uow_factory,
        providers=c.providers,
        caller=BUYER,
        order_id=_order(c),
        provider=ProviderName.STRIPE,
        return_url=None,
        clock=c.clock,
    )
    assert started.client_secret is not None
    confirm_at_sandbox(sandbox, started.client_secret, "pm_card_visa").raise_for_status()
    stripe = c.providers[ProviderName.STRIPE]
    ref = started.payment.provider_ref
    assert ref is not None
    return record_provider_answer(
        uow_factory=c.uow_factory,
        payment_id=started.payment.id,
        answer=stripe.retrieve_payment(ref),
        actor="test",
        now=c.clock(),
    )


def _later(c: Container) -> Any:
    return lambda: c.clock() + A_DAY_AND_MORE


def test_a_refund_sent_before_a_long_outage_is_adopted_not_made_again(
    container: Container, sandbox: str
) -> None:
    c = container
    payment = _paid(c, sandbox)
    assert payment.status is PaymentStatus.SUCCEEDED
    with c.uow_factory() as uow:
        refund = request_refund(
            uow,
            payment=payment,
            amount=1000,
            kind=RefundKind.OPERATOR,
            reason="goodwill",
            actor="test",
            now=c.clock(),
        )
        uow.commit()
    stripe = c.providers[ProviderName.STRIPE]
    # The refund reaches Stripe; its answer is lost (a crash before it was recorded).
    stripe.refund_payment(
        RefundRequest(
            refund_id=refund.id,
            payment_provider_ref=payment.provider_ref,
            capture_id=payment.capture_id,
            amount=Money(refund.amount, refund.currency),
            idempotency_key=refund.idempotency_key,
            reason=refund.reason,
        )
    )
    _age_keys(sandbox)

    answered = execute_pending_refunds(
        uow_factory=c.uow_factory, providers=c.providers, clock=_later(c)
    )

    assert answered == 1
    at_stripe = stripe.find_refunds(payment_provider_ref=payment.provider_ref, capture_id=None)
    assert len(at_stripe) == 1  # one refund, not two
    with c.uow_factory() as uow:
        row = uow.refunds.get(refund.id)
    assert row is not None
    assert row.status is RefundStatus.SUCCEEDED
    assert row.provider_refund_id == at_stripe[0].provider_refund_id


def test_an_intent_created_before_a_long_outage_is_found_not_made_again(
    container: Container, sandbox: str
) -> None:
    c = container
    order_id = _order(c)
    stripe = c.providers[ProviderName.STRIPE]
    with c.uow_factory() as uow:
        order = uow.orders.get(order_id)
    assert order is not None

    with pytest.raises(Unavailable):  # 503 to the buyer: the outcome is unknown
        payments.start_payment(
            uow_factory=c.uow_factory,
            providers={ProviderName.STRIPE: _LosingProvider(stripe)},  # type: ignore[dict-item]
            caller=BUYER,
            order_id=order_id,
            provider=ProviderName.STRIPE,
            return_url=None,
            clock=c.clock,
        )
    with c.uow_factory() as uow:
        (attempt,) = uow.payments.list_for_order(order_id)
    assert (attempt.status, attempt.provider_ref) == (PaymentStatus.UNKNOWN, None)
    _age_keys(sandbox)

    assert (
        janitor.resolve_unknown(uow_factory=c.uow_factory, providers=c.providers, clock=_later(c))
        == 1
    )

    with c.uow_factory() as uow:
        (attempt,) = uow.payments.list_for_order(order_id)
    found = stripe.find_payment(payment_id=attempt.id)
    assert found is not None
    assert attempt.provider_ref == found.provider_ref  # adopted: no second intent
    again = stripe.create_payment(create_request(order, attempt, urls=None))
    assert again.provider_ref != found.provider_ref  # the key really was forgotten


class _LosingProvider:
    """The real adapter, except that a create's answer is lost after Stripe acted on it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities

    def refusal_for(self, amount: Any) -> str | None:
        return self._inner.refusal_for(amount)  # type: ignore[no-any-return]

    def create_payment(self, request: Any) -> Any:
        self._inner.create_payment(request)
        raise ProviderOutcomeUnknown("provider_unreachable", "Stripe did not answer in time")
