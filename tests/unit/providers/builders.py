"""Requests and PayPal-side states the adapter's unit tests start from."""

from __future__ import annotations

import json
from typing import Any

from eventpay.domain import Money
from eventpay.ports import CreatePayment, PaymentLine
from eventpay.providers.paypal import PayPalProvider

from .fake_paypal import FakePayPal


def payment_request(
    amount: Money = Money(4500, "usd"),
    lines: tuple[PaymentLine, ...] = (),
    key: str = "eventpay-payment-k1",
    payment_id: str = "pay-1",
) -> CreatePayment:
    return CreatePayment(
        payment_id=payment_id,
        order_id="ord-1",
        amount=amount,
        idempotency_key=key,
        description="Car Audio Events order ord-1",
        metadata={"payment_id": payment_id},
        return_url="https://pay.example/v1/payments/pay-1/paypal/return",
        cancel_url="https://pay.example/v1/payments/pay-1/paypal/cancel",
        lines=lines,
    )


def sent(fake: FakePayPal, method: str, path: str) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in fake.api_requests(method, path)]


def approved_order(fake: FakePayPal, provider: PayPalProvider, **kwargs: Any) -> str:
    order_id = provider.create_payment(payment_request(**kwargs)).provider_ref
    fake.approve(order_id)
    return order_id
