"""Billing in the Stripe sandbox: catalogue, subscribing, the first invoice's payment, cancelling.

The real `stripe` SDK against the sandbox. The first payment goes through the first invoice's
PaymentIntent, named by `latest_invoice.payments` (API 2026-10-28 has no
`invoice.payment_intent`), and is confirmed like any PaymentIntent: 3-D Secure and declines
included. Renewals and dunning are in test_stripe_sandbox_billing_clocks.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import stripe

START = 1_767_225_600  # 2026-01-01T00:00:00Z
FIRST_INVOICE = ["latest_invoice.confirmation_secret", "latest_invoice.payments"]


def _membership_price(client: stripe.StripeClient, amount: int = 2900) -> stripe.Price:
    product = client.v1.products.create(params={"name": "Pro Competitor"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": amount,
            "recurring": {"interval": "year"},
        }
    )


def _subscribe(
    client: stripe.StripeClient, price_id: str, *, clock: str | None = None, **extra: Any
) -> stripe.Subscription:
    customer_params: dict[str, Any] = {"email": "member@example.com"}
    if clock:
        customer_params["test_clock"] = clock
    customer = client.v1.customers.create(params=customer_params)  # type: ignore[arg-type]
    params: dict[str, Any] = {
        "customer": customer.id,
        "items": [{"price": price_id}],
        "payment_behavior": "default_incomplete",
        "payment_settings": {"save_default_payment_method": "on_subscription"},
        "expand": FIRST_INVOICE,
        **extra,
    }
    return client.v1.subscriptions.create(params=params)  # type: ignore[arg-type]


def _intent_id(sub: stripe.Subscription) -> str:
    payment_intent: str = sub.latest_invoice.payments.data[0].payment.payment_intent
    return payment_intent


def _types(client: stripe.StripeClient) -> list[str]:
    return [e.type for e in client.v1.events.list(params={"limit": 100}).data][::-1]


def test_catalogue_objects_are_created_listed_and_updated(client: stripe.StripeClient) -> None:
    price = _membership_price(client, 9900)

    product = client.v1.products.retrieve(price.product)
    renamed = client.v1.products.update(product.id, params={"name": "Retailer"})
    listed = client.v1.prices.list(params={"product": product.id, "type": "recurring"})

    assert price.recurring.interval == "year"
    assert price.recurring.interval_count == 1
    assert price.unit_amount == 9900
    assert price.unit_amount_decimal == Decimal("9900")
    assert renamed.name == "Retailer"
    assert [p.id for p in listed.data] == [price.id]
    assert client.v1.prices.list(params={"product": "prod_other"}).data == []
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.prices.create(
            params={"product": "prod_missing", "currency": "usd", "unit_amount": 100}
        )
    assert missing.value.code == "resource_missing"
    assert missing.value.param == "product"


def test_subscribing_creates_an_open_first_invoice_with_a_payment_intent(
    client: stripe.StripeClient,
) -> None:
    price = _membership_price(client)

    sub = _subscribe(client, price.id)

    invoice = sub.latest_invoice
    intent = client.v1.payment_intents.retrieve(_intent_id(sub))
    assert sub.status == "incomplete"
    assert invoice.status == "open"
    assert invoice.billing_reason == "subscription_create"
    assert invoice.amount_due == 2900
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.confirmation_secret.client_secret == intent.client_secret
    assert intent.amount == 2900
    assert intent.customer == sub.customer
    assert intent.status == "requires_payment_method"
    assert [line.amount for line in invoice.lines.data] == [2900]
    item = sub["items"].data[0]
    assert item.current_period_end - item.current_period_start == 365 * 86400
    assert _types(client)[-4:] == [
        "customer.subscription.created",
        "invoice.created",
        "payment_intent.created",
        "invoice.finalized",
    ]


def test_paying_with_visa_activates_and_sends_signed_invoice_paid(
    client: stripe.StripeClient, receiver: Any, wait_until: Any
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["invoice.paid"]}
    )
    sub = _subscribe(client, _membership_price(client).id)

    paid = client.v1.payment_intents.confirm(
        _intent_id(sub), params={"payment_method": "pm_card_visa"}
    )

    assert paid.status == "succeeded"
    after = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert after.status == "active"
    assert after.latest_invoice.status == "paid"
    assert after.latest_invoice.amount_paid == 2900
    assert after.default_payment_method == paid.payment_method
    delivery = wait_until(lambda: receiver.received(), "the invoice.paid delivery")[0]
    event = stripe.Webhook.construct_event(
        delivery.body, delivery.headers["Stripe-Signature"], endpoint.secret
    )
    assert event.type == "invoice.paid"
    assert event.data.object.id == sub.latest_invoice.id
    updated = client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.object.status == "active"
    assert updated.data.previous_attributes.status == "incomplete"
    assert _types(client)[-5:] == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]


def test_first_payment_with_3d_secure_activates_after_the_challenge(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    sub = _subscribe(client, _membership_price(client).id)

    waiting = client.v1.payment_intents.confirm(
        _intent_id(sub), params={"payment_method": "pm_card_authenticationRequired"}
    )

    assert waiting.status == "requires_action"
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    assert "invoice.payment_action_required" in _types(client)
    http.post(f"/sandbox/3ds/{waiting.id}/complete").raise_for_status()
    after = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert after.status == "active"
    assert after.latest_invoice.status == "paid"


def test_declined_first_payment_leaves_the_subscription_incomplete_until_paid(
    client: stripe.StripeClient,
) -> None:
    sub = _subscribe(client, _membership_price(client).id)

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(
            _intent_id(sub), params={"payment_method": "pm_card_chargeDeclined"}
        )

    assert declined.value.code == "card_declined"
    after = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert after.status == "incomplete"
    assert after.latest_invoice.status == "open"
    assert after.latest_invoice.attempt_count == 1
    assert after.latest_invoice.next_payment_attempt is None
    failed = client.v1.events.list(params={"type": "invoice.payment_failed"}).data
    assert [e.data.object.id for e in failed] == [sub.latest_invoice.id]
    client.v1.payment_intents.confirm(_intent_id(sub), params={"payment_method": "pm_card_visa"})
    recovered = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert recovered.status == "active"
    assert recovered.latest_invoice.attempt_count == 2


def test_allow_incomplete_charges_the_customers_default_payment_method(
    client: stripe.StripeClient,
) -> None:
    price = _membership_price(client)
    customer = client.v1.customers.create(
        params={"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )

    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )

    assert sub.status == "active"
    assert customer.invoice_settings.default_payment_method.startswith("pm_")


def test_incomplete_subscription_expires_after_23_hours(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    sub = _subscribe(client, _membership_price(client).id, clock=clock.id)

    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": START + 22 * 3600})
    still = client.v1.subscriptions.retrieve(sub.id)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": START + 24 * 3600})
    expired = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})

    assert still.status == "incomplete"
    assert expired.status == "incomplete_expired"
    assert expired.latest_invoice.status == "void"
    assert expired.ended_at == START + 23 * 3600


def test_cancelling_now_ends_the_subscription(client: stripe.StripeClient) -> None:
    sub = _subscribe(client, _membership_price(client).id)
    client.v1.payment_intents.confirm(_intent_id(sub), params={"payment_method": "pm_card_visa"})

    canceled = client.v1.subscriptions.cancel(sub.id)

    assert canceled.status == "canceled"
    assert canceled.cancellation_details.reason == "cancellation_requested"
    deleted = client.v1.events.list(params={"type": "customer.subscription.deleted"}).data
    assert [e.data.object.id for e in deleted] == [sub.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub.id)
    assert client.v1.subscriptions.list().data == []
    assert [s.id for s in client.v1.subscriptions.list(params={"status": "canceled"}).data] == [
        sub.id
    ]


def test_subscription_parameters_are_checked_like_stripe(client: stripe.StripeClient) -> None:
    price = _membership_price(client)
    one_time = client.v1.prices.create(
        params={"product": price.product, "currency": "usd", "unit_amount": 500}
    )
    customer = client.v1.customers.create()

    with pytest.raises(stripe.InvalidRequestError) as not_recurring:
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": one_time.id}]}
        )
    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        client.v1.subscriptions.create(
            params={"customer": "cus_nobody", "items": [{"price": price.id}]}
        )
    with pytest.raises(stripe.InvalidRequestError) as old_field:
        client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price.id}],
                "expand": ["latest_invoice.payment_intent"],
            }
        )

    assert not_recurring.value.param == "items[0][price]"
    assert no_customer.value.code == "resource_missing"
    assert old_field.value.param == "expand"


def test_subscription_create_replays_with_the_same_idempotency_key(
    client: stripe.StripeClient,
) -> None:
    price = _membership_price(client)
    customer = client.v1.customers.create()
    params: dict[str, Any] = {
        "customer": customer.id,
        "items": [{"price": price.id}],
        "payment_behavior": "default_incomplete",
    }

    first = client.v1.subscriptions.create(params=params, options={"idempotency_key": "sub-1"})  # type: ignore[arg-type]
    again = client.v1.subscriptions.create(params=params, options={"idempotency_key": "sub-1"})  # type: ignore[arg-type]

    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.subscriptions.list(params={"status": "all"}).data) == 1
    assert len(client.v1.invoices.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.subscriptions.create(
            params={**params, "metadata": {"tier": "retailer"}},
            options={"idempotency_key": "sub-1"},
        )
