"""PayPal's failures translated: no answer or 5xx is an unknown outcome, a 4xx a rejection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from eventpay.domain import Money
from eventpay.ports import CreatePayment, ProviderOutcomeUnknown, ProviderRejected
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_http import PayPalRejected

from .fake_paypal import FakePayPal

REQUEST = CreatePayment(
    payment_id="pay-1",
    order_id="ord-1",
    amount=Money(4500, "usd"),
    idempotency_key="eventpay-payment-k1",
    description="order",
    metadata={},
)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("connect timeout"),
        httpx.ReadTimeout("read timeout"),
        httpx.WriteTimeout("write timeout"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.ReadError("connection reset"),
    ],
)
def test_no_answer_is_an_unknown_outcome(
    fake: FakePayPal, provider: PayPalProvider, failure: Exception
) -> None:
    fake.fail_next("POST", "/v2/checkout/orders", exception=failure)
    with pytest.raises(ProviderOutcomeUnknown) as unknown:
        provider.create_payment(REQUEST)
    assert unknown.value.code == "provider_unreachable"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 409, 429])
def test_server_errors_conflicts_and_rate_limits_are_unknown_outcomes(
    fake: FakePayPal, provider: PayPalProvider, status: int
) -> None:
    fake.fail_next("POST", "/v2/checkout/orders", status, {"name": "INTERNAL_SERVER_ERROR"})
    with pytest.raises(ProviderOutcomeUnknown) as unknown:
        provider.create_payment(REQUEST)
    assert unknown.value.code == "provider_error"
    assert str(status) in unknown.value.message


def test_the_retry_after_an_unknown_outcome_finds_the_first_order(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    created = provider.create_payment(REQUEST)
    fake.fail_next("POST", "/v2/checkout/orders", exception=httpx.ReadTimeout("lost"))
    with pytest.raises(ProviderOutcomeUnknown):
        provider.create_payment(REQUEST)
    assert provider.create_payment(REQUEST).provider_ref == created.provider_ref
    assert len(fake.orders) == 1


@pytest.mark.parametrize(
    ("status", "body", "code", "said"),
    [
        (
            422,
            {
                "name": "UNPROCESSABLE_ENTITY",
                "message": "The requested action could not be performed.",
                "debug_id": "f00d",
                "details": [{"issue": "PAYEE_ACCOUNT_RESTRICTED", "description": "Restricted."}],
            },
            "PAYEE_ACCOUNT_RESTRICTED",
            "Restricted. (debug_id f00d)",
        ),
        (
            400,
            {"name": "INVALID_REQUEST", "message": "Request is not well-formed."},
            "INVALID_REQUEST",
            "Request is not well-formed.",
        ),
        (
            403,
            {"error": "insufficient_scope", "error_description": "No permission."},
            "insufficient_scope",
            "No permission.",
        ),
        (404, None, "http_404", "PayPal answered 404"),
    ],
)
def test_client_errors_are_rejections_with_paypals_code(
    fake: FakePayPal,
    provider: PayPalProvider,
    status: int,
    body: dict[str, Any] | None,
    code: str,
    said: str,
) -> None:
    fake.fail_next("POST", "/v2/checkout/orders", status, body)
    with pytest.raises(PayPalRejected) as refused:
        provider.create_payment(REQUEST)
    assert isinstance(refused.value, ProviderRejected)
    assert refused.value.code == code
    assert refused.value.message == said
    assert refused.value.status_code == status


def test_a_long_description_is_cut_short(fake: FakePayPal, provider: PayPalProvider) -> None:
    body = {"name": "INVALID_REQUEST", "details": [{"issue": "X", "description": "y" * 5000}]}
    fake.fail_next("GET", "/v2/checkout/orders/", 400, body)
    with pytest.raises(ProviderRejected) as refused:
        provider.retrieve_payment("ORDER1")
    assert len(refused.value.message) == 300


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"<html>maintenance</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"id": "ORDER1"}),  # no purchase units
        httpx.Response(302, headers={"location": "https://elsewhere.example/"}),
    ],
)
def test_an_answer_we_cannot_read_is_an_unknown_outcome(
    fake: FakePayPal, response: httpx.Response
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return fake(request) if request.url.path == "/v1/oauth2/token" else response

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        provider = PayPalProvider(
            client_id="client-abc",
            client_secret="secret-xyz",
            api_base="https://api-m.sandbox.paypal.com",
            http=http,
        )
        with pytest.raises(ProviderOutcomeUnknown):
            provider.retrieve_payment("ORDER1")
