"""Orders v2 through the adapter: create, read, capture (once) and cancel."""

from __future__ import annotations

import json

import pytest

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import (
    PaymentLine,
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_money import UnsupportedAmount

from .builders import approved_order, payment_request, sent
from .fake_paypal import FakePayPal

# -- create ------------------------------------------------------------------------------


def test_create_sends_one_order_per_attempt_and_returns_the_approval_link(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    lines = (
        PaymentLine("Spring Sound-Off: SPL Pro", Money(3000, "usd")),
        PaymentLine("Spring Sound-Off: Install", Money(1500, "usd")),
    )
    created = provider.create_payment(payment_request(lines=lines))

    (request,) = fake.api_requests("POST", "/v2/checkout/orders")
    assert request.headers["paypal-request-id"] == "eventpay-payment-k1"
    assert request.headers["prefer"] == "return=representation"
    (body,) = sent(fake, "POST", "/v2/checkout/orders")
    unit = body["purchase_units"][0]
    assert body["intent"] == "CAPTURE"
    assert (unit["reference_id"], unit["custom_id"], unit["invoice_id"]) == (
        "ord-1",
        "pay-1",
        "pay-1",
    )
    assert unit["amount"] == {
        "currency_code": "USD",
        "value": "45.00",
        "breakdown": {"item_total": {"currency_code": "USD", "value": "45.00"}},
    }
    assert [(i["name"], i["quantity"], i["unit_amount"]["value"]) for i in unit["items"]] == [
        ("Spring Sound-Off: SPL Pro", "1", "30.00"),
        ("Spring Sound-Off: Install", "1", "15.00"),
    ]
    assert body["payment_source"]["paypal"]["experience_context"] == {
        "brand_name": "Car Audio Events",
        "user_action": "PAY_NOW",
        "shipping_preference": "NO_SHIPPING",
        "return_url": "https://pay.example/v1/payments/pay-1/paypal/return",
        "cancel_url": "https://pay.example/v1/payments/pay-1/paypal/cancel",
    }
    assert created.provider_ref in fake.orders
    assert created.status is PaymentStatus.REQUIRES_ACTION
    assert created.approve_url == (
        f"https://www.sandbox.paypal.com/checkoutnow?token={created.provider_ref}"
    )
    assert created.amount == Money(4500, "usd")
    assert created.capture_id is None


def test_without_lines_the_description_is_the_one_item(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    provider.create_payment(payment_request())
    (body,) = sent(fake, "POST", "/v2/checkout/orders")
    (item,) = body["purchase_units"][0]["items"]
    assert item["name"] == "Car Audio Events order ord-1"
    assert item["unit_amount"] == {"currency_code": "USD", "value": "45.00"}


def test_negative_lines_become_the_discount_and_zero_lines_are_left_out(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    lines = (
        PaymentLine("Registration", Money(5000, "usd")),
        PaymentLine("Free parking", Money(0, "usd")),
        PaymentLine("Promo SPRING10", Money(-500, "usd")),
    )
    provider.create_payment(payment_request(lines=lines))
    (body,) = sent(fake, "POST", "/v2/checkout/orders")
    unit = body["purchase_units"][0]
    assert unit["amount"]["breakdown"] == {
        "item_total": {"currency_code": "USD", "value": "50.00"},
        "discount": {"currency_code": "USD", "value": "5.00"},
    }
    assert [i["name"] for i in unit["items"]] == ["Registration"]


def test_lines_that_do_not_add_up_are_refused_before_any_call(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    lines = (PaymentLine("Registration", Money(4000, "usd")),)
    with pytest.raises(ValueError, match="do not add up"):
        provider.create_payment(payment_request(lines=lines))
    assert fake.requests == []


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        (Money(4500, "jpy"), "4500"),
        (Money(1205, "eur"), "12.05"),
        (Money(450000, "huf"), "4500"),  # whole forints: PayPal takes no decimals in HUF
        (Money(1, "usd"), "0.01"),
    ],
)
def test_amounts_use_the_currency_exponent(
    fake: FakePayPal, provider: PayPalProvider, amount: Money, value: str
) -> None:
    created = provider.create_payment(payment_request(amount=amount))
    (body,) = sent(fake, "POST", "/v2/checkout/orders")
    money = body["purchase_units"][0]["amount"]
    assert (money["currency_code"], money["value"]) == (amount.currency.upper(), value)
    assert created.amount == amount


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        (Money(1005, "kwd"), "PayPal does not take payments in KWD."),
        (Money(4500, "isk"), "PayPal does not take payments in ISK."),
        (Money(450050, "huf"), "PayPal takes only whole HUF amounts, not 4500.50 HUF."),
    ],
)
def test_an_amount_paypal_cannot_take_is_refused_before_any_call(
    fake: FakePayPal, provider: PayPalProvider, amount: Money, why: str
) -> None:
    assert provider.refusal_for(amount) == why
    with pytest.raises(UnsupportedAmount) as refused:
        provider.create_payment(payment_request(amount=amount))
    assert (refused.value.code, refused.value.message) == ("unsupported_amount", why)
    assert fake.api_requests() == []


def test_a_retried_create_gets_the_same_order(fake: FakePayPal, provider: PayPalProvider) -> None:
    first = provider.create_payment(payment_request())
    again = provider.create_payment(payment_request())
    assert again.provider_ref == first.provider_ref
    assert len(fake.orders) == 1


def test_a_new_attempt_gets_a_new_order(fake: FakePayPal, provider: PayPalProvider) -> None:
    first = provider.create_payment(payment_request())
    second = provider.create_payment(payment_request(key="eventpay-payment-k2", payment_id="p2"))
    assert first.provider_ref != second.provider_ref


def test_a_minimal_answer_is_followed_by_a_read(fake: FakePayPal, provider: PayPalProvider) -> None:
    existing = provider.create_payment(payment_request())
    minimal = {k: fake.orders[existing.provider_ref][k] for k in ("id", "status", "links")}
    fake.fail_next("POST", "/v2/checkout/orders", 201, minimal)
    again = provider.create_payment(payment_request(key="eventpay-payment-k2"))
    assert again == existing
    assert [r.method for r in fake.api_requests()] == ["POST", "POST", "GET"]


def test_a_minimal_capture_answer_is_followed_by_a_read(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    captured = provider.capture_payment(order_id, idempotency_key="k")
    unit = fake.orders[order_id]["purchase_units"][0]
    # PayPal's default capture answer: the payments, without the purchase unit's amount.
    minimal = {
        "id": order_id,
        "status": "COMPLETED",
        "purchase_units": [{"reference_id": unit["reference_id"], "payments": unit["payments"]}],
    }
    fake.fail_next("POST", f"/v2/checkout/orders/{order_id}/capture", 201, minimal)
    assert provider.capture_payment(order_id, idempotency_key="k2") == captured


# -- read: the status table ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_status", "capture_status", "expected"),
    [
        ("CREATED", None, PaymentStatus.REQUIRES_ACTION),
        ("SAVED", None, PaymentStatus.REQUIRES_ACTION),
        ("PAYER_ACTION_REQUIRED", None, PaymentStatus.REQUIRES_ACTION),
        ("APPROVED", None, PaymentStatus.PROCESSING),
        ("VOIDED", None, PaymentStatus.CANCELED),
        ("COMPLETED", None, PaymentStatus.PROCESSING),
        ("COMPLETED", "COMPLETED", PaymentStatus.SUCCEEDED),
        ("COMPLETED", "PARTIALLY_REFUNDED", PaymentStatus.SUCCEEDED),
        ("COMPLETED", "REFUNDED", PaymentStatus.SUCCEEDED),
        ("COMPLETED", "PENDING", PaymentStatus.PROCESSING),
        ("COMPLETED", "DECLINED", PaymentStatus.FAILED),
        ("COMPLETED", "FAILED", PaymentStatus.FAILED),
    ],
)
def test_order_status_mapping(
    fake: FakePayPal,
    provider: PayPalProvider,
    order_status: str,
    capture_status: str | None,
    expected: PaymentStatus,
) -> None:
    order_id = provider.create_payment(payment_request()).provider_ref
    order = fake.orders[order_id]
    if capture_status is not None:
        capture = {
            "id": "CAP0000000000001",
            "status": capture_status,
            "amount": {"currency_code": "USD", "value": "45.00"},
        }
        if capture_status == "DECLINED":
            capture["status_details"] = {"reason": "OTHER"}
        order["purchase_units"][0]["payments"] = {"captures": [capture]}
    order["status"] = order_status

    payment = provider.retrieve_payment(order_id)

    assert payment.status is expected
    assert payment.provider_ref == order_id
    assert payment.metadata == {"payment_id": "pay-1", "order_id": "ord-1"}
    moved_money = capture_status is not None and expected is not PaymentStatus.FAILED
    assert payment.capture_id == ("CAP0000000000001" if moved_money else None)
    if expected is PaymentStatus.SUCCEEDED:
        assert payment.amount_received == 4500
    else:
        assert payment.amount_received is None
    if expected is PaymentStatus.FAILED:
        assert payment.failure_code == ("OTHER" if capture_status == "DECLINED" else "FAILED")
        assert payment.failure_message
    else:
        assert payment.failure_code is None


def test_an_order_status_we_do_not_know_is_an_unknown_outcome(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = provider.create_payment(payment_request()).provider_ref
    fake.fail_next(
        "GET", "/v2/checkout/orders/", 200, {**fake.orders[order_id], "status": "TELEPORTED"}
    )
    with pytest.raises(ProviderOutcomeUnknown) as unknown:
        provider.retrieve_payment(order_id)
    assert unknown.value.code == "provider_malformed_answer"


# -- capture -------------------------------------------------------------------------------


def test_capture_of_an_approved_order_succeeds_with_the_capture_id(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    payment = provider.capture_payment(order_id, idempotency_key="eventpay-capture-pay-1")
    (request,) = fake.api_requests("POST", f"/v2/checkout/orders/{order_id}/capture")
    assert request.headers["paypal-request-id"] == "eventpay-capture-pay-1"
    assert json.loads(request.content) == {}
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.capture_id in fake.captures
    assert payment.amount_received == 4500


def test_the_same_capture_key_from_every_caller_makes_one_capture(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    first = provider.capture_payment(order_id, idempotency_key="eventpay-capture-pay-1")
    again = provider.capture_payment(order_id, idempotency_key="eventpay-capture-pay-1")
    assert again == first
    assert len(fake.captures) == 1


def test_an_order_captured_under_another_key_is_success_not_an_error(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    first = provider.capture_payment(order_id, idempotency_key="key-a")
    again = provider.capture_payment(order_id, idempotency_key="key-b")
    assert again.status is PaymentStatus.SUCCEEDED
    assert again.capture_id == first.capture_id
    assert len(fake.captures) == 1


def test_a_pending_capture_is_processing_with_its_capture_id(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    fake.capture_outcome[order_id] = "PENDING"
    payment = provider.capture_payment(order_id, idempotency_key="k")
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.capture_id is not None
    assert payment.amount_received is None


def test_a_declined_capture_is_a_failed_attempt(fake: FakePayPal, provider: PayPalProvider) -> None:
    order_id = approved_order(fake, provider)
    fake.capture_outcome[order_id] = "DECLINED"
    payment = provider.capture_payment(order_id, idempotency_key="k")
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "DECLINED"
    assert payment.failure_message == "PayPal declined the capture"


def test_a_declined_instrument_is_a_failed_attempt_not_an_error(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    fake.capture_outcome[order_id] = "INSTRUMENT_DECLINED"
    payment = provider.capture_payment(order_id, idempotency_key="k")
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "INSTRUMENT_DECLINED"
    assert payment.provider_ref == order_id
    assert payment.amount == Money(4500, "usd")
    assert payment.capture_id is None  # the refused capture moved no money
    # PayPal sends the buyer back to choose another funding source for the same order.
    assert payment.approve_url == f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}"
    assert fake.captures == {}


def test_after_a_decline_the_buyer_may_pay_the_same_order_again(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = approved_order(fake, provider)
    fake.capture_outcome[order_id] = "INSTRUMENT_DECLINED"
    provider.capture_payment(order_id, idempotency_key="eventpay-capture-pay-1")
    assert provider.retrieve_payment(order_id).status is PaymentStatus.REQUIRES_ACTION
    fake.approve(order_id)
    payment = provider.capture_payment(order_id, idempotency_key="eventpay-capture-pay-1")
    assert payment.status is PaymentStatus.SUCCEEDED
    (capture_id,) = fake.captures
    assert payment.capture_id == capture_id  # the good capture, not the refused one
    assert provider.retrieve_payment(order_id).capture_id == capture_id


@pytest.mark.parametrize(
    ("order_status", "expected"),
    [
        ("PAYER_ACTION_REQUIRED", PaymentStatus.REQUIRES_ACTION),
        ("APPROVED", PaymentStatus.PROCESSING),
    ],
)
def test_a_refused_capture_on_an_open_order_leaves_it_waiting(
    fake: FakePayPal, provider: PayPalProvider, order_status: str, expected: PaymentStatus
) -> None:
    order_id = provider.create_payment(payment_request()).provider_ref
    order = fake.orders[order_id]
    amount = {"currency_code": "USD", "value": "45.00"}
    declined = {"id": "CAP1", "status": "DECLINED", "amount": amount}
    order["purchase_units"][0]["payments"] = {"captures": [declined]}
    order["status"] = order_status
    payment = provider.retrieve_payment(order_id)
    assert (payment.status, payment.capture_id, payment.failure_code) == (expected, None, None)


def test_capture_before_approval_is_rejected_and_changes_nothing(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = provider.create_payment(payment_request()).provider_ref
    with pytest.raises(ProviderRejected) as refused:
        provider.capture_payment(order_id, idempotency_key="k")
    assert refused.value.code == "ORDER_NOT_APPROVED"
    assert fake.orders[order_id]["status"] == "PAYER_ACTION_REQUIRED"


def test_cancel_reports_the_order_as_it_is_without_calling_paypal_to_change_it(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    order_id = provider.create_payment(payment_request()).provider_ref
    payment = provider.cancel_payment(order_id, idempotency_key="eventpay-cancel-pay-1")
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert [r.method for r in fake.api_requests()] == ["POST", "GET"]


def test_a_completed_capture_carries_paypals_fee() -> None:
    from eventpay.domain import Money
    from eventpay.providers.paypal_orders import payment_from_order

    order = {
        "id": "ORDER-FEE",
        "status": "COMPLETED",
        "purchase_units": [
            {
                "amount": {"currency_code": "EUR", "value": "45.00"},
                "payments": {
                    "captures": [
                        {
                            "id": "CAP-FEE",
                            "status": "COMPLETED",
                            "amount": {"currency_code": "EUR", "value": "45.00"},
                            "seller_receivable_breakdown": {
                                "gross_amount": {"currency_code": "EUR", "value": "45.00"},
                                "paypal_fee": {"currency_code": "EUR", "value": "2.06"},
                                "net_amount": {"currency_code": "EUR", "value": "42.94"},
                            },
                        }
                    ]
                },
            }
        ],
    }
    assert payment_from_order(order).fee == Money(206, "eur")
    pending = {**order, "status": "APPROVED"}
    pending["purchase_units"] = [
        {
            **order["purchase_units"][0],  # type: ignore[index]
            "payments": {
                "captures": [
                    {
                        "id": "CAP-P",
                        "status": "PENDING",
                        "amount": {"currency_code": "EUR", "value": "45.00"},
                    }
                ]
            },
        }
    ]
    assert payment_from_order(pending).fee is None
