"""The Stripe adapter's one error classification, against the sandbox and its faults.

401/403 are `ProviderMisconfigured` (code provider_misconfigured, no key material in the
message); timeouts, 409, 429 and 5xx are `ProviderOutcomeUnknown`; Stripe's documented
refusals are `ProviderRejected`; a 2xx answer we cannot read is unknown with code
provider_malformed_answer. What the old adapter did instead: 401/403 were a plain unknown
"provider_error" (not misconfigured), 429 went through the same path as a timeout but a 400
`idempotency_error` was a definite refusal, and a 2xx without `amount` raised KeyError out of
the adapter.
"""

from __future__ import annotations

import uuid
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
from eventpay.providers import StripeProvider, stripe_client

SECRET = "sk_test_adaptererrorskey1234"


def _request(amount: int = 4500, key: str | None = None) -> CreatePayment:
    payment_id = str(uuid.uuid4())
    return CreatePayment(
        payment_id=payment_id,
        order_id="order-1",
        amount=Money(amount, "eur"),
        idempotency_key=key or f"eventpay-payment-{payment_id}",
        description="eventpay order order-1",
        metadata={"payment_id": payment_id},
    )


def _refund(intent_id: str, amount: int) -> RefundRequest:
    refund_id = str(uuid.uuid4())
    return RefundRequest(
        refund_id=refund_id,
        payment_provider_ref=intent_id,
        capture_id=None,
        amount=Money(amount, "eur"),
        idempotency_key=f"eventpay-refund-{refund_id}",
        reason="test",
    )


@pytest.fixture
def provider(sandbox_url: str) -> StripeProvider:
    return StripeProvider(stripe_client(secret_key=SECRET, api_base=sandbox_url, timeout_s=2.0))


def _arm(http: httpx.Client, **spec: Any) -> None:
    spec.setdefault("path_prefix", "/v1/payment_intents")
    http.post("/_sandbox/faults", json=spec).raise_for_status()


def _paid(provider: StripeProvider, sandbox_url: str, amount: int = 4500) -> str:
    created = provider.create_payment(_request(amount))
    httpx.post(
        f"{sandbox_url}/v1/payment_intents/{created.provider_ref}/confirm",
        data={"payment_method": "pm_card_visa"},
        headers={"Authorization": f"Bearer {SECRET}"},
    ).raise_for_status()
    return created.provider_ref


@pytest.mark.parametrize("status", [401, 403])
def test_authentication_and_permission_are_misconfiguration(
    provider: StripeProvider, http: httpx.Client, status: int
) -> None:
    _arm(http, mode="status", status=status)

    with pytest.raises(ProviderMisconfigured) as caught:
        provider.create_payment(_request())

    assert caught.value.code == "provider_misconfigured"
    assert str(status) in caught.value.message
    # Stripe's own message echoes the key (masked); ours names the cause only.
    assert "sk_" not in caught.value.message
    assert SECRET[-4:] not in caught.value.message


def test_a_wrong_key_is_misconfiguration_without_key_material(sandbox_url: str) -> None:
    wrong = "sk_live_notatestkey9876"
    client = stripe_client(secret_key=wrong, api_base=sandbox_url, timeout_s=2.0)

    with pytest.raises(ProviderMisconfigured) as caught:
        StripeProvider(client).retrieve_payment("pi_x")

    assert "9876" not in caught.value.message
    assert "sk_live" not in caught.value.message


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (409, "provider_busy"),
        (429, "provider_busy"),
        (500, "provider_error"),
        (503, "provider_error"),
    ],
)
def test_busy_and_server_errors_are_unknown(
    provider: StripeProvider, http: httpx.Client, status: int, code: str
) -> None:
    _arm(http, mode="status", status=status)

    with pytest.raises(ProviderOutcomeUnknown) as caught:
        provider.create_payment(_request())

    assert not isinstance(caught.value, ProviderMisconfigured)
    assert caught.value.code == code


def test_a_timeout_is_unknown(sandbox_url: str, http: httpx.Client) -> None:
    _arm(http, mode="delay", delay_s=0.6, method="POST")
    client = stripe_client(secret_key=SECRET, api_base=sandbox_url, timeout_s=0.2)

    with pytest.raises(ProviderOutcomeUnknown) as caught:
        StripeProvider(client).create_payment(_request())

    assert caught.value.code == "provider_unreachable"


def test_same_key_other_parameters_is_unknown_not_a_refusal(provider: StripeProvider) -> None:
    provider.create_payment(_request(4500, key="reused-key"))

    with pytest.raises(ProviderOutcomeUnknown) as caught:
        provider.create_payment(_request(4600, key="reused-key"))

    assert caught.value.code == "idempotency_key_reused"


@pytest.mark.parametrize(
    "body",
    [
        {"object": "payment_intent", "id": "pi_x", "status": "succeeded", "currency": "eur"},
        {
            "object": "payment_intent",
            "id": "pi_x",
            "status": "succeeded",
            "amount": "4500",
            "currency": "eur",
        },
        {"object": "payment_intent", "status": "succeeded", "amount": 4500, "currency": "eur"},
        {
            "object": "payment_intent",
            "id": "pi_x",
            "status": "succeeded",
            "amount": 4500,
            "currency": 7,
        },
    ],
)
def test_a_malformed_2xx_is_unknown(
    provider: StripeProvider, http: httpx.Client, body: dict[str, Any]
) -> None:
    _arm(http, mode="status", status=200, body=body, method="POST")

    with pytest.raises(ProviderOutcomeUnknown) as caught:
        provider.create_payment(_request())

    assert caught.value.code == "provider_malformed_answer"


def test_a_malformed_refund_list_is_unknown(provider: StripeProvider, http: httpx.Client) -> None:
    _arm(http, path_prefix="/v1/refunds", mode="status", status=200, body={"object": "list"})

    with pytest.raises(ProviderOutcomeUnknown) as caught:
        provider.find_refunds(payment_provider_ref="pi_x", capture_id=None)

    assert caught.value.code == "provider_malformed_answer"


def test_documented_refusals_are_rejections(provider: StripeProvider, sandbox_url: str) -> None:
    intent_id = _paid(provider, sandbox_url)
    provider.refund_payment(_refund(intent_id, 4500))

    with pytest.raises(ProviderRejected) as refunded:
        provider.refund_payment(_refund(intent_id, 100))
    other = _paid(provider, sandbox_url)
    with pytest.raises(ProviderRejected) as too_large:
        provider.refund_payment(_refund(other, 9000))
    with pytest.raises(ProviderRejected) as missing:
        provider.retrieve_refund("re_doesnotexist")

    assert refunded.value.code == "charge_already_refunded"
    assert too_large.value.code == "amount_too_large"
    assert missing.value.code == "resource_missing"


def test_a_card_decline_is_a_rejection(provider: StripeProvider, http: httpx.Client) -> None:
    decline = {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
        }
    }
    _arm(http, mode="status", status=402, body=decline, method="POST")

    with pytest.raises(ProviderRejected) as caught:
        provider.create_payment(_request())

    assert (caught.value.code, caught.value.message) == ("card_declined", "Your card was declined.")
