"""Billing time in the Stripe sandbox: test clocks drive renewals, dunning and period ends.

A member subscribes on a clock frozen at 2026-01-01 and pays the first invoice with a card that
becomes the subscription's default; advancing the clock renews, retries failed renewals 1, 3
and 7 days after the first failure and then cancels, ends subscriptions set to cancel at period
end, and bills prorated price changes. The real `stripe` SDK against the sandbox.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

START = 1_767_225_600  # 2026-01-01T00:00:00Z
YEAR_END = START + 365 * 86400  # 2027-01-01T00:00:00Z
DAY = 86400


def _member(client: stripe.StripeClient, amount: int = 2900) -> tuple[str, stripe.Subscription]:
    """A clock and a paid yearly subscription on it (the card saved as its default)."""
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    price = _price(client, amount)
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete",
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "expand": ["latest_invoice.payments"],
        }
    )
    pi_id = sub.latest_invoice.payments.data[0].payment.payment_intent
    client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_visa"})
    return clock.id, client.v1.subscriptions.retrieve(sub.id)


def _price(client: stripe.StripeClient, amount: int) -> stripe.Price:
    product = client.v1.products.create(params={"name": f"Tier {amount}"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": amount,
            "recurring": {"interval": "year"},
        }
    )


def _advance(client: stripe.StripeClient, clock_id: str, to: int) -> stripe.test_helpers.TestClock:
    return client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": to})


def _latest(client: stripe.StripeClient, sub_id: str) -> stripe.Subscription:
    return client.v1.subscriptions.retrieve(sub_id, params={"expand": ["latest_invoice"]})


def _events(client: stripe.StripeClient, event_type: str) -> list[Any]:
    return client.v1.events.list(params={"type": event_type, "limit": 100}).data[::-1]


def test_advancing_a_year_renews_and_charges_the_saved_card(client: stripe.StripeClient) -> None:
    clock_id, sub = _member(client)
    first_invoice = sub.latest_invoice

    answer = _advance(client, clock_id, YEAR_END + 3600)

    assert answer.status == "advancing"
    clock = client.v1.test_helpers.test_clocks.retrieve(clock_id)
    assert clock.status == "ready"
    assert clock.frozen_time == YEAR_END + 3600
    renewed = _latest(client, sub.id)
    invoice = renewed.latest_invoice
    assert renewed.status == "active"
    assert invoice.id != first_invoice
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.status == "paid"
    assert invoice.amount_paid == 2900
    assert invoice.created == YEAR_END
    item = renewed["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (
        YEAR_END,
        YEAR_END + 365 * 86400,
    )
    paid = [e.data.object.id for e in _events(client, "invoice.paid")]
    assert paid == [first_invoice, invoice.id]
    intent = client.v1.payment_intents.retrieve(
        client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]})
        .payments.data[0]
        .payment.payment_intent
    )
    assert intent.payment_method == sub.default_payment_method


def test_failing_renewal_goes_past_due_retries_at_1_3_7_days_then_cancels(
    client: stripe.StripeClient,
) -> None:
    clock_id, sub = _member(client)
    client.v1.subscriptions.update(
        sub.id, params={"default_payment_method": "pm_card_chargeCustomerFail"}
    )

    _advance(client, clock_id, YEAR_END + 60)
    past_due = _latest(client, sub.id)
    seen = [(past_due.status, past_due.latest_invoice.attempt_count)]
    next_attempts = [past_due.latest_invoice.next_payment_attempt]
    for day in (1, 3):
        _advance(client, clock_id, YEAR_END + day * DAY + 60)
        now = _latest(client, sub.id)
        seen.append((now.status, now.latest_invoice.attempt_count))
        next_attempts.append(now.latest_invoice.next_payment_attempt)
    _advance(client, clock_id, YEAR_END + 7 * DAY - 60)
    before_last = _latest(client, sub.id)
    _advance(client, clock_id, YEAR_END + 7 * DAY + 60)
    ended = _latest(client, sub.id)

    assert seen == [("past_due", 1), ("past_due", 2), ("past_due", 3)]
    assert next_attempts == [YEAR_END + DAY, YEAR_END + 3 * DAY, YEAR_END + 7 * DAY]
    assert (before_last.status, before_last.latest_invoice.attempt_count) == ("past_due", 3)
    assert ended.status == "canceled"
    assert ended.ended_at == YEAR_END + 7 * DAY
    assert ended.cancellation_details.reason == "payment_failed"
    assert ended.latest_invoice.attempt_count == 4
    assert ended.latest_invoice.status == "open"
    assert ended.latest_invoice.next_payment_attempt is None
    failed = _events(client, "invoice.payment_failed")
    assert [e.data.object.attempt_count for e in failed] == [1, 2, 3, 4]
    statuses = [
        (e.data.previous_attributes["status"], e.data.object.status)
        for e in _events(client, "customer.subscription.updated")
        if "status" in e.data.previous_attributes
    ]
    assert statuses == [("incomplete", "active"), ("active", "past_due")]
    deleted = _events(client, "customer.subscription.deleted")
    assert [e.data.object.id for e in deleted] == [sub.id]


def test_a_retry_with_a_new_default_card_recovers_the_subscription(
    client: stripe.StripeClient,
) -> None:
    clock_id, sub = _member(client)
    client.v1.subscriptions.update(
        sub.id, params={"default_payment_method": "pm_card_chargeDeclined"}
    )
    _advance(client, clock_id, YEAR_END + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"

    client.v1.subscriptions.update(sub.id, params={"default_payment_method": "pm_card_visa"})
    _advance(client, clock_id, YEAR_END + DAY + 60)

    recovered = _latest(client, sub.id)
    assert recovered.status == "active"
    assert recovered.latest_invoice.status == "paid"
    assert recovered.latest_invoice.attempt_count == 2
    assert recovered.latest_invoice.status_transitions.paid_at == YEAR_END + DAY


def test_customer_default_is_charged_when_the_subscription_has_none(
    client: stripe.StripeClient,
) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    customer = client.v1.customers.create(
        params={
            "test_clock": clock.id,
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": _price(client, 9900).id}]}
    )
    assert sub.status == "active"
    client.v1.customers.update(
        customer.id,
        params={"invoice_settings": {"default_payment_method": "pm_card_chargeDeclined"}},
    )

    _advance(client, clock.id, YEAR_END + 60)

    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"


def test_cancel_at_period_end_ends_the_subscription_at_the_period_end(
    client: stripe.StripeClient,
) -> None:
    clock_id, sub = _member(client)

    scheduled = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    _advance(client, clock_id, YEAR_END - 60)
    still = client.v1.subscriptions.retrieve(sub.id)
    _advance(client, clock_id, YEAR_END + 60)
    ended = _latest(client, sub.id)

    assert scheduled.cancel_at == YEAR_END
    assert scheduled.canceled_at == START
    assert still.status == "active"
    assert ended.status == "canceled"
    assert ended.ended_at == YEAR_END
    assert ended.latest_invoice.billing_reason == "subscription_create"
    assert len(client.v1.invoices.list().data) == 1
    updated = _events(client, "customer.subscription.updated")[-1]
    assert updated.data.previous_attributes.cancel_at_period_end is False
    deleted = _events(client, "customer.subscription.deleted")
    assert [e.data.object.id for e in deleted] == [sub.id]


def test_upgrade_with_prorations_is_billed_on_the_renewal_invoice(
    client: stripe.StripeClient,
) -> None:
    clock_id, sub = _member(client, 2900)
    retailer = _price(client, 9900)
    _advance(client, clock_id, START + 73 * DAY)

    client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": retailer.id}],
            "proration_behavior": "create_prorations",
        },
    )
    pending = client.v1.invoice_items.list(params={"pending": True}).data
    _advance(client, clock_id, YEAR_END + 60)
    renewal = _latest(client, sub.id).latest_invoice

    # 292 of 365 days remain: credit 2900 * 292/365 = 2320, charge 9900 * 292/365 = 7920.
    assert sorted(i.amount for i in pending) == [-2320, 7920]
    assert all(i.proration for i in pending)
    assert sorted(line.amount for line in renewal.lines.data) == [-2320, 7920, 9900]
    assert renewal.amount_paid == 9900 + 7920 - 2320
    assert client.v1.invoice_items.list(params={"pending": True}).data == []


def test_upgrade_with_always_invoice_charges_the_difference_now(
    client: stripe.StripeClient,
) -> None:
    clock_id, sub = _member(client, 2900)
    retailer = _price(client, 9900)
    _advance(client, clock_id, START + 73 * DAY)

    updated = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": retailer.id}],
            "proration_behavior": "always_invoice",
            "expand": ["latest_invoice"],
        },
    )

    invoice = updated.latest_invoice
    assert updated["items"].data[0].price.id == retailer.id
    assert invoice.billing_reason == "subscription_update"
    assert invoice.status == "paid"
    assert invoice.amount_paid == 7920 - 2320


def test_a_clock_cannot_go_back(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})

    with pytest.raises(stripe.InvalidRequestError) as backwards:
        _advance(client, clock.id, START - 1)

    assert backwards.value.param == "frozen_time"
    assert client.v1.test_helpers.test_clocks.retrieve(clock.id).frozen_time == START


def test_renewal_events_name_no_api_request(client: stripe.StripeClient) -> None:
    clock_id, _ = _member(client)

    _advance(client, clock_id, YEAR_END + 60)

    renewal_paid = _events(client, "invoice.paid")[-1]
    first_paid = _events(client, "invoice.paid")[0]
    assert renewal_paid.request.id is None
    assert first_paid.request.id is not None


def test_a_clock_attached_by_the_control_renews_a_customer_made_without_one(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    customer = client.v1.customers.create(
        params={"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": _price(client, 19_900).id}]}
    )

    attached = http.post(f"/_sandbox/customers/{customer.id}/test_clock")
    clock = attached.json()
    again = http.post(f"/_sandbox/customers/{customer.id}/test_clock")
    period_end = sub["items"].data[0].current_period_end
    _advance(client, clock["id"], period_end + 60)

    assert attached.status_code == 200
    assert again.status_code == 409
    assert client.v1.customers.retrieve(customer.id).test_clock == clock["id"]
    renewed = _latest(client, sub.id)
    assert renewed.latest_invoice.billing_reason == "subscription_cycle"
    assert renewed.latest_invoice.status == "paid"
    assert renewed["items"].data[0].current_period_start == period_end
