"""OAuth tokens: fetched once, shared by threads, renewed before expiry and once after a 401."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from eventpay.domain import Money
from eventpay.ports import (
    CreatePayment,
    ProviderMisconfigured,
    ProviderOutcomeUnknown,
    ProviderRejected,
    RefundRequest,
)
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_auth import PayPalTokenCache
from eventpay.providers.paypal_http import PayPalApi

from .fake_paypal import API_BASE, CLIENT_ID, CLIENT_SECRET, FakePayPal


def _request() -> CreatePayment:
    return CreatePayment(
        payment_id="pay-1",
        order_id="ord-1",
        amount=Money(4500, "usd"),
        idempotency_key="eventpay-payment-key-1",
        description="Car Audio Events order ord-1",
        metadata={},
        return_url="https://pay.example/return",
        cancel_url="https://pay.example/cancel",
    )


REFUND = RefundRequest(
    refund_id="ref-1",
    payment_provider_ref="ORDER1",
    capture_id="CAPTURE1",
    amount=Money(1000, "usd"),
    idempotency_key="eventpay-refund-ref-1",
    reason="withdrawal",
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(fake: FakePayPal, clock: Clock) -> Iterator[PayPalTokenCache]:
    with fake.client() as http:
        api = PayPalApi(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            api_base=API_BASE,
            http=http,
            timeout_s=5.0,
            clock=clock,
        )
        yield api.tokens


def test_one_token_serves_many_calls(fake: FakePayPal, provider: PayPalProvider) -> None:
    created = provider.create_payment(_request())
    provider.retrieve_payment(created.provider_ref)
    provider.retrieve_payment(created.provider_ref)
    assert fake.tokens_issued == ["A21AA0001"]
    assert {r.headers["authorization"] for r in fake.api_requests()} == {"Bearer A21AA0001"}


def test_token_is_renewed_60_seconds_before_it_expires(
    fake: FakePayPal, cache: PayPalTokenCache, clock: Clock
) -> None:
    fake.expires_in = 3600
    first = cache.get()
    clock.now += 3600 - 60 - 0.5
    assert cache.get() == first
    clock.now += 0.5
    assert cache.get() != first
    assert len(fake.tokens_issued) == 2


def test_a_token_shorter_lived_than_the_margin_is_never_reused(
    fake: FakePayPal, cache: PayPalTokenCache
) -> None:
    fake.expires_in = 30
    assert cache.get() != cache.get()


def test_invalidate_forgets_only_the_token_it_names(
    fake: FakePayPal, cache: PayPalTokenCache
) -> None:
    first = cache.get()
    cache.invalidate("some-older-token")
    assert cache.get() == first
    cache.invalidate(first)
    assert cache.get() != first


def test_a_401_renews_the_token_once_and_retries_with_the_same_request_id(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    provider.retrieve_payment(provider.create_payment(_request()).provider_ref)
    fake.revoked.add(fake.tokens_issued[0])
    payment = provider.create_payment(_second_request())
    assert payment.provider_ref
    creates = fake.api_requests("POST", "/v2/checkout/orders")
    assert [r.headers["paypal-request-id"] for r in creates] == [
        "eventpay-payment-key-1",
        "eventpay-payment-key-2",
        "eventpay-payment-key-2",
    ]
    assert [r.headers["authorization"] for r in creates[1:]] == [
        "Bearer A21AA0001",
        "Bearer A21AA0002",
    ]
    assert len(fake.orders) == 2


def _second_request() -> CreatePayment:
    first = _request()
    return CreatePayment(
        payment_id="pay-2",
        order_id=first.order_id,
        amount=first.amount,
        idempotency_key="eventpay-payment-key-2",
        description=first.description,
        metadata={},
    )


def test_a_second_401_is_misconfiguration_not_a_rejection_nor_a_loop(fake: FakePayPal) -> None:
    """Old code: a definite `ProviderRejected`, so a pending refund failed for good."""

    def refuse_everything(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth2/token":
            return fake(request)
        fake.requests.append(request)
        return httpx.Response(401, json={"error": "invalid_token", "error_description": "no"})

    with httpx.Client(transport=httpx.MockTransport(refuse_everything)) as http:
        provider = PayPalProvider(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=API_BASE, http=http
        )
        with pytest.raises(ProviderMisconfigured) as refused:
            provider.retrieve_payment("ORDER1")
    assert not isinstance(refused.value, ProviderRejected)
    assert refused.value.code == "provider_misconfigured"
    assert len(fake.api_requests()) == 2
    assert len(fake.tokens_issued) == 2


def test_wrong_credentials_are_misconfiguration_without_showing_the_secret(
    fake: FakePayPal,
) -> None:
    """Old code: `ProviderRejected("authentication_failed")`, a definite answer about money."""
    with fake.client() as http:
        provider = PayPalProvider(
            client_id=CLIENT_ID, client_secret="wrong-secret-123", api_base=API_BASE, http=http
        )
        with pytest.raises(ProviderMisconfigured) as refused:
            provider.refund_payment(REFUND)
    assert not isinstance(refused.value, ProviderRejected)
    assert refused.value.code == "provider_misconfigured"
    shown = f"{refused.value} {refused.value.message} {provider!r} {provider.api!r}"
    shown += repr(provider.api.tokens)
    assert "wrong-secret-123" not in shown
    assert fake.api_requests() == []


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow"), httpx.ConnectError("refused")],
)
def test_a_token_request_without_answer_is_an_unknown_outcome(
    fake: FakePayPal, provider: PayPalProvider, failure: Exception
) -> None:
    fake.fail_next("POST", "/v1/oauth2/token", exception=failure)
    with pytest.raises(ProviderOutcomeUnknown):
        provider.retrieve_payment("ORDER1")


def test_a_token_request_answered_500_is_an_unknown_outcome(fake: FakePayPal) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"name": "INTERNAL_SERVER_ERROR"})

    with httpx.Client(transport=httpx.MockTransport(broken)) as http:
        provider = PayPalProvider(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=API_BASE, http=http
        )
        with pytest.raises(ProviderOutcomeUnknown):
            provider.retrieve_payment("ORDER1")


def _slow_tokens(fake: FakePayPal) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth2/token":
            time.sleep(0.05)  # widen the window in which threads could each fetch one
        return fake(request)

    return httpx.MockTransport(handler)


def _in_threads(count: int, work: Callable[[], object]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run() -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_threads_share_one_token_fetch(fake: FakePayPal) -> None:
    with httpx.Client(transport=_slow_tokens(fake)) as http:
        provider = PayPalProvider(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=API_BASE, http=http
        )
        order_id = provider.create_payment(_request()).provider_ref
        fake.revoked.add(fake.tokens_issued[0])
        errors = _in_threads(16, lambda: provider.retrieve_payment(order_id))
    assert errors == []
    # One token at first, and one renewal however many threads met the 401 at once.
    assert len(fake.tokens_issued) == 2
