"""PayPal's answers classified in one place (paypal_http): each row of its table, tested.

No answer, 429, 409 or 5xx is an unknown outcome; 401 (after one token renewal), 403 and
answers that are not PayPal's are misconfiguration (unknown too: retriable); only PayPal's own
400/404/422 refusals are definite; a 2xx we cannot read is `provider_malformed_answer`.
Old code: 403 was a definite rejection (`insufficient_scope`), a 404 without body too, and a
malformed 2xx said `malformed_response`; a minimal refund answer became a PENDING refund.
"""

from __future__ import annotations

from typing import Any

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
from eventpay.providers.paypal_http import PayPalRejected

from .fake_paypal import API_BASE, CLIENT_ID, CLIENT_SECRET, FakePayPal

REQUEST = CreatePayment(
    payment_id="pay-1",
    order_id="ord-1",
    amount=Money(4500, "usd"),
    idempotency_key="eventpay-payment-k1",
    description="order",
    metadata={},
)
REFUND = RefundRequest(
    refund_id="ref-1",
    payment_provider_ref="ORDER1",
    capture_id="CAP1",
    amount=Money(700, "usd"),
    idempotency_key="eventpay-refund-ref-1",
    reason="withdrawal",
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
    assert not isinstance(unknown.value, ProviderMisconfigured)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "provider_error"),
        (502, "provider_error"),
        (503, "provider_error"),
        (504, "provider_error"),
        (409, "provider_busy"),
        (429, "provider_busy"),
    ],
)
def test_server_errors_conflicts_and_rate_limits_are_unknown_outcomes(
    fake: FakePayPal, provider: PayPalProvider, status: int, code: str
) -> None:
    fake.fail_next("POST", "/v2/payments/captures/", status, {"name": "INTERNAL_SERVER_ERROR"})
    with pytest.raises(ProviderOutcomeUnknown) as unknown:
        provider.refund_payment(REFUND)
    assert unknown.value.code == code
    assert str(status) in unknown.value.message
    assert not isinstance(unknown.value, ProviderMisconfigured)


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
    ("status", "body"),
    [
        (
            403,
            {
                "name": "NOT_AUTHORIZED",
                "message": "Authorization failed due to insufficient permissions.",
                "details": [{"issue": "PERMISSION_DENIED"}],
            },
        ),
        (403, {"error": "insufficient_scope", "error_description": "No permission."}),
        (404, None),  # not PayPal's 404: something else answers at api_base
        (404, {"detail": "Not Found"}),
        (405, {"name": "METHOD_NOT_SUPPORTED"}),
        (415, {"name": "UNSUPPORTED_MEDIA_TYPE"}),
    ],
)
def test_permission_and_address_errors_are_misconfiguration_never_a_refusal(
    fake: FakePayPal, provider: PayPalProvider, status: int, body: dict[str, Any] | None
) -> None:
    fake.fail_next("POST", "/v2/payments/captures/", status, body)
    with pytest.raises(ProviderMisconfigured) as caught:
        provider.refund_payment(REFUND)
    assert not isinstance(caught.value, ProviderRejected)
    assert caught.value.code == "provider_misconfigured"
    assert str(status) in caught.value.message


def test_misconfiguration_messages_carry_no_secret(fake: FakePayPal) -> None:
    with fake.client() as http:
        provider = PayPalProvider(
            client_id=CLIENT_ID, client_secret="s3cr3t-in-config", api_base=API_BASE, http=http
        )
        with pytest.raises(ProviderMisconfigured) as caught:
            provider.refund_payment(REFUND)
    assert "s3cr3t-in-config" not in f"{caught.value} {caught.value.message!r}"


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
            404,
            {
                "name": "RESOURCE_NOT_FOUND",
                "message": "The specified resource does not exist.",
                "details": [{"issue": "INVALID_RESOURCE_ID"}],
            },
            "INVALID_RESOURCE_ID",
            "The specified resource does not exist.",
        ),
    ],
)
def test_documented_refusals_are_rejections_with_paypals_code(
    fake: FakePayPal,
    provider: PayPalProvider,
    status: int,
    body: dict[str, Any],
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


def _answering(fake: FakePayPal, response: httpx.Response) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return fake(request) if request.url.path == "/v1/oauth2/token" else response

    return httpx.Client(transport=httpx.MockTransport(handler))


def _provider(http: httpx.Client) -> PayPalProvider:
    return PayPalProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=API_BASE, http=http
    )


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"<html>maintenance</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"id": "ORDER1"}),  # no purchase units
        httpx.Response(200, json={"id": "ORDER1", "status": "COMPLETED", "purchase_units": [{}]}),
        httpx.Response(200, json={"status": "APPROVED", "purchase_units": [{"amount": {}}]}),
    ],
)
def test_an_order_we_cannot_read_is_a_malformed_answer(
    fake: FakePayPal, response: httpx.Response
) -> None:
    with _answering(fake, response) as http, pytest.raises(ProviderOutcomeUnknown) as unknown:
        _provider(http).retrieve_payment("ORDER1")
    assert unknown.value.code == "provider_malformed_answer"


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "COMPLETED", "amount": {"currency_code": "USD", "value": "7.00"}},  # no id
        {"id": "R1", "status": "DONE", "amount": {"currency_code": "USD", "value": "7.00"}},
        {"id": "R1", "status": "COMPLETED", "amount": {"currency_code": "USD", "value": 7}},
        {"id": "R1", "status": "COMPLETED", "amount": "7.00 USD"},
    ],
)
def test_a_refund_we_cannot_read_is_a_malformed_answer_never_a_guess(
    fake: FakePayPal, answer: dict[str, Any]
) -> None:
    answered = _answering(fake, httpx.Response(201, json=answer))
    with answered as http, pytest.raises(ProviderOutcomeUnknown) as unknown:
        _provider(http).refund_payment(REFUND)
    assert unknown.value.code == "provider_malformed_answer"


def test_a_minimal_refund_answer_is_read_again_in_full(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    """Old code took `{id, status}` without amount as the requested amount, PENDING if no
    status: a guess about money. Now the refund is read again."""
    refund = {
        "id": "1JU08902781691411",
        "status": "COMPLETED",
        "amount": {"currency_code": "USD", "value": "7.00"},
        "custom_id": "ref-1",
    }
    fake.fail_next("POST", "/v2/payments/captures/", 201, {"id": refund["id"]})
    fake.fail_next("GET", "/v2/payments/refunds/", 200, refund)
    read = provider.refund_payment(REFUND)
    assert (read.provider_refund_id, read.amount) == (refund["id"], Money(700, "usd"))
    assert read.refund_id_hint == "ref-1"


def test_a_redirect_is_never_followed(fake: FakePayPal) -> None:
    moved = httpx.Response(302, headers={"location": "https://elsewhere.example/"})
    with _answering(fake, moved) as http, pytest.raises(ProviderOutcomeUnknown) as unknown:
        _provider(http).retrieve_payment("ORDER1")
    assert unknown.value.code == "provider_error"
