"""The PayPal adapter over HTTP against the project's PayPal sandbox: payments and refunds.

Orders are created, approved (as the buyer, through the sandbox's controls), captured once and
refunded; tokens expire; faults make PayPal slow or broken. Webhook verification is in
test_paypal_adapter_webhooks.py; payouts, disputes and invoices in
test_paypal_adapter_business.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import (
    CreatePayment,
    PaymentLine,
    ProviderMisconfigured,
    ProviderOutcomeUnknown,
    ProviderRefundStatus,
    ProviderRejected,
    RefundRequest,
)
from eventpay.providers.paypal import PayPalProvider
from eventpay.sandbox.paypal import BackgroundServer, create_app

CLIENT_ID = "eventpay-adapter-test"
CLIENT_SECRET = "adapter-test-secret"


@dataclass(frozen=True)
class Sandbox:
    url: str

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(f"{self.url}{path}", json=body or {}, timeout=5.0)
        assert response.status_code < 300, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def read(self, path: str) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}{path}", timeout=5.0).json()
        return answer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    app = create_app(environment="test", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with BackgroundServer(app) as server:
        yield Sandbox(server.base_url)
        # PayPal replays the first answer to a reused PayPal-Request-Id even for another
        # body; the sandbox counts those: the adapter must never have caused one.
        assert Sandbox(server.base_url).read("/_sandbox/idempotency")["mismatched_replays"] == 0


@pytest.fixture
def paypal(sandbox: Sandbox) -> Iterator[PayPalProvider]:
    provider = PayPalProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=sandbox.url, timeout_s=5.0
    )
    yield provider
    provider.close()


def attempt(amount: Money = Money(4500, "usd"), **changes: Any) -> CreatePayment:
    payment_id = str(uuid.uuid4())
    fields: dict[str, Any] = {
        "payment_id": payment_id,
        "order_id": f"order-{payment_id[:8]}",
        "amount": amount,
        "idempotency_key": f"eventpay-payment-{payment_id}",
        "description": "Car Audio Events order",
        "metadata": {"payment_id": payment_id},
        "return_url": f"https://pay.example/v1/payments/{payment_id}/paypal/return",
        "cancel_url": f"https://pay.example/v1/payments/{payment_id}/paypal/cancel",
        "lines": (PaymentLine("Spring Sound-Off registration", amount),),
    }
    fields.update(changes)
    return CreatePayment(**fields)


def approved(sandbox: Sandbox, paypal: PayPalProvider, request: CreatePayment) -> str:
    order_id = paypal.create_payment(request).provider_ref
    sandbox.control(f"/_sandbox/orders/{order_id}/approve")
    return order_id


def capture_key(request: CreatePayment) -> str:
    return f"eventpay-capture-{request.payment_id}"


# -- create, approve, capture -----------------------------------------------------------------


def test_create_approve_capture_completed(sandbox: Sandbox, paypal: PayPalProvider) -> None:
    request = attempt()
    created = paypal.create_payment(request)
    assert created.status is PaymentStatus.REQUIRES_ACTION
    assert created.approve_url == f"{sandbox.url}/checkoutnow?token={created.provider_ref}"
    assert paypal.retrieve_payment(created.provider_ref).status is PaymentStatus.REQUIRES_ACTION

    sandbox.control(f"/_sandbox/orders/{created.provider_ref}/approve")
    assert paypal.retrieve_payment(created.provider_ref).status is PaymentStatus.PROCESSING

    captured = paypal.capture_payment(created.provider_ref, idempotency_key=capture_key(request))
    assert captured.status is PaymentStatus.SUCCEEDED
    assert captured.amount_received == 4500
    assert captured.capture_id is not None
    assert captured.metadata["payment_id"] == request.payment_id
    assert paypal.retrieve_payment(created.provider_ref) == captured


def test_a_retried_create_is_the_same_order(paypal: PayPalProvider) -> None:
    request = attempt()
    assert paypal.create_payment(request) == paypal.create_payment(request)


def test_capturing_twice_with_the_same_key_is_one_capture(
    sandbox: Sandbox, paypal: PayPalProvider
) -> None:
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    first = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    again = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    other_caller = paypal.capture_payment(order_id, idempotency_key="another-key")
    assert again == first
    assert other_caller.status is PaymentStatus.SUCCEEDED
    assert other_caller.capture_id == first.capture_id
    order = paypal.api.call("GET", f"/v2/checkout/orders/{order_id}")
    assert len(order["purchase_units"][0]["payments"]["captures"]) == 1


def test_a_pending_capture_then_completed(sandbox: Sandbox, paypal: PayPalProvider) -> None:
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    sandbox.control(f"/_sandbox/orders/{order_id}/capture-outcome", {"status": "PENDING"})
    pending = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    assert pending.status is PaymentStatus.PROCESSING
    assert pending.capture_id is not None
    sandbox.control(f"/_sandbox/captures/{pending.capture_id}/complete")
    done = paypal.retrieve_payment(order_id)
    assert (done.status, done.capture_id, done.amount_received) == (
        PaymentStatus.SUCCEEDED,
        pending.capture_id,
        4500,
    )


def test_a_pending_capture_then_denied(sandbox: Sandbox, paypal: PayPalProvider) -> None:
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    sandbox.control(f"/_sandbox/orders/{order_id}/capture-outcome", {"status": "PENDING"})
    pending = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    sandbox.control(f"/_sandbox/captures/{pending.capture_id}/deny")
    denied = paypal.retrieve_payment(order_id)
    assert denied.status is PaymentStatus.FAILED
    assert denied.failure_code == "OTHER"
    assert denied.capture_id is None


def test_a_declined_capture_fails_and_the_buyer_can_pay_again(
    sandbox: Sandbox, paypal: PayPalProvider
) -> None:
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    sandbox.control(f"/_sandbox/orders/{order_id}/capture-outcome", {"status": "DECLINED"})
    declined = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    assert declined.status is PaymentStatus.FAILED
    assert declined.failure_code == "INSTRUMENT_DECLINED"
    assert declined.capture_id is None
    assert declined.approve_url is not None  # PayPal sends the buyer back to pay otherwise

    sandbox.control(f"/_sandbox/orders/{order_id}/approve")
    paid = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.capture_id is not None


def test_capture_before_approval_is_rejected(paypal: PayPalProvider) -> None:
    order_id = paypal.create_payment(attempt()).provider_ref
    with pytest.raises(ProviderRejected) as refused:
        paypal.capture_payment(order_id, idempotency_key="k")
    assert refused.value.code == "ORDER_NOT_APPROVED"


def test_cancel_leaves_the_order_waiting(paypal: PayPalProvider) -> None:
    order_id = paypal.create_payment(attempt()).provider_ref
    payment = paypal.cancel_payment(order_id, idempotency_key="eventpay-cancel-x")
    assert payment.status is PaymentStatus.REQUIRES_ACTION


def test_zero_decimal_currency_end_to_end(sandbox: Sandbox, paypal: PayPalProvider) -> None:
    request = attempt(Money(4500, "jpy"))
    order_id = approved(sandbox, paypal, request)
    captured = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    assert captured.amount == Money(4500, "jpy")
    assert captured.amount_received == 4500


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        (Money(1005, "kwd"), "PayPal does not take payments in KWD."),
        (Money(4500, "isk"), "PayPal does not take payments in ISK."),
    ],
)
def test_a_currency_paypal_does_not_take_is_refused_before_any_call(
    sandbox: Sandbox, paypal: PayPalProvider, amount: Money, why: str
) -> None:
    """Old code sent KWD to PayPal ("1.005") and had no `refusal_for` to ask first."""
    assert paypal.refusal_for(amount) == why
    before = sandbox.read("/_sandbox/idempotency")["request_ids"]
    with pytest.raises(ProviderRejected) as refused:
        paypal.create_payment(attempt(amount))
    assert (refused.value.code, refused.value.message) == ("unsupported_amount", why)
    assert sandbox.read("/_sandbox/idempotency")["request_ids"] == before


@pytest.mark.parametrize(
    ("amount", "part", "shown"),
    [
        (Money(4500, "jpy"), Money(1500, "jpy"), "4500"),
        (Money(1205, "eur"), Money(5, "eur"), "12.05"),
    ],
)
def test_paid_and_refunded_in_jpy_and_eur(
    sandbox: Sandbox, paypal: PayPalProvider, amount: Money, part: Money, shown: str
) -> None:
    assert paypal.refusal_for(amount) is None
    request = attempt(amount)
    order_id = approved(sandbox, paypal, request)
    order = paypal.api.call("GET", f"/v2/checkout/orders/{order_id}")
    assert order["purchase_units"][0]["amount"]["value"] == shown
    captured = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    assert (captured.amount, captured.amount_received) == (amount, amount.amount)
    refunded = refund(paypal, order_id, captured.capture_id, part, f"r-{request.payment_id}")
    assert refunded.amount == part
    assert paypal.retrieve_refund(refunded.provider_refund_id) == refunded


def test_an_unknown_order_is_rejected(paypal: PayPalProvider) -> None:
    with pytest.raises(ProviderRejected) as refused:
        paypal.retrieve_payment("0VF52814937998046")
    assert refused.value.code == "INVALID_RESOURCE_ID"


# -- refunds ------------------------------------------------------------------------------------


def refund(
    paypal: PayPalProvider, order_id: str, capture_id: str | None, amount: Money, key: str
) -> Any:
    return paypal.refund_payment(
        RefundRequest(
            refund_id=key,
            payment_provider_ref=order_id,
            capture_id=capture_id,
            amount=amount,
            idempotency_key=key,
            reason="Class cancelled",
        )
    )


def test_refunds_partial_over_the_cap_and_full(sandbox: Sandbox, paypal: PayPalProvider) -> None:
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    capture_id = paypal.capture_payment(order_id, idempotency_key=capture_key(request)).capture_id

    partial = refund(paypal, order_id, capture_id, Money(1000, "usd"), "r1")
    assert (partial.status, partial.amount) == (ProviderRefundStatus.SUCCEEDED, Money(1000, "usd"))
    assert refund(paypal, order_id, capture_id, Money(1000, "usd"), "r1") == partial

    with pytest.raises(ProviderRejected) as refused:
        refund(paypal, order_id, capture_id, Money(3501, "usd"), "r2")
    assert refused.value.code == "REFUND_AMOUNT_EXCEEDED"

    rest = refund(paypal, order_id, None, Money(3500, "usd"), "r3")  # capture found on the order
    assert rest.status is ProviderRefundStatus.SUCCEEDED
    with pytest.raises(ProviderRejected) as refused:
        refund(paypal, order_id, capture_id, Money(1, "usd"), "r4")
    assert refused.value.code == "CAPTURE_FULLY_REFUNDED"
    # Refunded money still arrived: refunds are the core's own attempts.
    assert paypal.retrieve_payment(order_id).status is PaymentStatus.SUCCEEDED


# -- tokens and faults -------------------------------------------------------------------------


def test_an_expired_token_is_renewed_once(sandbox: Sandbox, paypal: PayPalProvider) -> None:
    order_id = paypal.create_payment(attempt()).provider_ref
    assert paypal.api.tokens.fetches == 1
    assert sandbox.control("/_sandbox/tokens/expire")["expired"] >= 1
    assert paypal.retrieve_payment(order_id).provider_ref == order_id
    assert paypal.api.tokens.fetches == 2


def test_wrong_credentials_are_misconfiguration_not_a_refusal(sandbox: Sandbox) -> None:
    """The defect: PayPal's 401 invalid_client was `ProviderRejected`, so the refund janitor
    failed a pending refund for good over a configuration slip."""
    provider = PayPalProvider(
        client_id=CLIENT_ID, client_secret="wrong-secret", api_base=sandbox.url
    )
    with pytest.raises(ProviderMisconfigured) as caught:
        provider.refund_payment(
            RefundRequest("r-x", "0VF52814937998046", "CAP1", Money(100, "usd"), "r-x", "")
        )
    provider.close()
    assert not isinstance(caught.value, ProviderRejected)
    assert caught.value.code == "provider_misconfigured"
    assert "wrong-secret" not in caught.value.message


def test_a_500_is_an_unknown_outcome_and_the_retry_creates_one_order(
    sandbox: Sandbox, paypal: PayPalProvider
) -> None:
    sandbox.control(
        "/_sandbox/faults",
        {"path_prefix": "/v2/checkout/orders", "method": "POST", "mode": "http_500"},
    )
    request = attempt()
    with pytest.raises(ProviderOutcomeUnknown):
        paypal.create_payment(request)
    created = paypal.create_payment(request)
    assert paypal.create_payment(request).provider_ref == created.provider_ref


def test_a_slow_paypal_is_an_unknown_outcome_and_the_retry_finds_its_order(
    sandbox: Sandbox, paypal: PayPalProvider
) -> None:
    impatient = PayPalProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=sandbox.url, timeout_s=0.3
    )
    impatient.api.tokens.get()  # the token first, so only the order request is slow
    sandbox.control(
        "/_sandbox/faults",
        {"path_prefix": "/v2/checkout/orders", "method": "POST", "mode": "delay", "delay_s": 1.0},
    )
    request = attempt()
    replays = sandbox.read("/_sandbox/idempotency")["replays"]
    with pytest.raises(ProviderOutcomeUnknown) as unknown:
        impatient.create_payment(request)
    impatient.close()
    assert unknown.value.code == "provider_unreachable"
    # The slow request still completes at PayPal; the retry (the janitor's, say) is answered
    # with that same order, whether it arrives while the first still runs or after.
    created = paypal.create_payment(request)
    assert created.status is PaymentStatus.REQUIRES_ACTION
    assert sandbox.read("/_sandbox/idempotency")["replays"] == replays + 1
    assert paypal.create_payment(request).provider_ref == created.provider_ref


def test_a_token_refused_even_after_renewal_is_misconfiguration(
    sandbox: Sandbox, paypal: PayPalProvider
) -> None:
    order_id = paypal.create_payment(attempt()).provider_ref
    sandbox.control(
        "/_sandbox/faults",
        {"path_prefix": "/v2/checkout/orders/", "mode": "status", "status": 401, "times": 2},
    )
    with pytest.raises(ProviderMisconfigured) as caught:
        paypal.retrieve_payment(order_id)
    assert caught.value.code == "provider_misconfigured"
    assert paypal.api.tokens.fetches == 2  # renewed once, then given up


@pytest.mark.parametrize(
    ("status", "raised", "code"),
    [
        (403, ProviderMisconfigured, "provider_misconfigured"),
        (429, ProviderOutcomeUnknown, "provider_busy"),
        (409, ProviderOutcomeUnknown, "provider_busy"),
        (503, ProviderOutcomeUnknown, "provider_error"),
    ],
)
def test_paypals_failures_are_never_a_refusal(
    sandbox: Sandbox,
    paypal: PayPalProvider,
    status: int,
    raised: type[ProviderOutcomeUnknown],
    code: str,
) -> None:
    """Old code: a 403 NOT_AUTHORIZED was a definite ProviderRejected."""
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    captured = paypal.capture_payment(order_id, idempotency_key=capture_key(request))
    sandbox.control(
        "/_sandbox/faults",
        {"path_prefix": "/v2/payments/captures/", "mode": "status", "status": status},
    )
    with pytest.raises(raised) as caught:
        refund(paypal, order_id, captured.capture_id, Money(100, "usd"), f"r-{order_id}")
    assert not isinstance(caught.value, ProviderRejected)
    assert caught.value.code == code
    # Nothing happened: the retry with the same key refunds once.
    done = refund(paypal, order_id, captured.capture_id, Money(100, "usd"), f"r-{order_id}")
    assert paypal.find_refunds(payment_provider_ref=order_id, capture_id=None) == [done]


@pytest.mark.parametrize(
    "body",
    [
        {"id": "ORDERX", "status": "CREATED"},  # no purchase units, no amount
        {"purchase_units": [{"amount": {"currency_code": "USD", "value": "1.00"}}]},  # no id
        {"id": "ORDERX", "status": "CREATED", "purchase_units": [{"amount": {"value": 1}}]},
    ],
)
def test_a_malformed_answer_is_unknown_never_a_crash(
    sandbox: Sandbox, paypal: PayPalProvider, body: dict[str, Any]
) -> None:
    order_id = paypal.create_payment(attempt()).provider_ref
    sandbox.control(
        "/_sandbox/faults",
        {"path_prefix": "/v2/checkout/orders/", "mode": "status", "status": 200, "body": body},
    )
    with pytest.raises(ProviderOutcomeUnknown) as caught:
        paypal.retrieve_payment(order_id)
    assert caught.value.code == "provider_malformed_answer"


def test_refunds_are_found_on_the_order_with_our_refund_ids(
    sandbox: Sandbox, paypal: PayPalProvider
) -> None:
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    capture_id = paypal.capture_payment(order_id, idempotency_key=capture_key(request)).capture_id
    first = refund(paypal, order_id, capture_id, Money(1000, "usd"), f"a-{order_id}")
    second = refund(paypal, order_id, capture_id, Money(500, "usd"), f"b-{order_id}")
    assert (first.refund_id_hint, second.refund_id_hint) == (f"a-{order_id}", f"b-{order_id}")
    found = paypal.find_refunds(payment_provider_ref=order_id, capture_id=capture_id)
    assert found == [first, second]
    assert paypal.retrieve_refund(second.provider_refund_id) == second


def test_after_paypals_key_window_a_resent_refund_is_a_second_refund(
    sandbox: Sandbox, paypal: PayPalProvider
) -> None:
    """Why the core reads `find_refunds` before re-sending anything older than the window."""
    request = attempt()
    order_id = approved(sandbox, paypal, request)
    capture_id = paypal.capture_payment(order_id, idempotency_key=capture_key(request)).capture_id
    key = f"r-{order_id}"
    first = refund(paypal, order_id, capture_id, Money(1000, "usd"), key)
    assert refund(paypal, order_id, capture_id, Money(1000, "usd"), key) == first
    sandbox.control("/_sandbox/idempotency/age", {"seconds": 46 * 24 * 3600})
    again = refund(paypal, order_id, capture_id, Money(1000, "usd"), key)
    assert again.provider_refund_id != first.provider_refund_id
    found = paypal.find_refunds(payment_provider_ref=order_id, capture_id=capture_id)
    assert [r.refund_id_hint for r in found] == [key, key]
