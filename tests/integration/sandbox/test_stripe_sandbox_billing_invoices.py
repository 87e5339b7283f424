"""Sponsor invoices in the Stripe sandbox, and Billing objects' shapes against Stripe's examples.

An organizer invoices a sponsor with net terms (`send_invoice`, `days_until_due`): draft, items,
finalize, send; the sponsor pays on the hosted page or the invoice is paid through the API;
`invoice.overdue` once past the due date on a test clock. Every Billing object and event
payload the sandbox returns has the key set of Stripe's own example (sandbox_shapes.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from sandbox_shapes import load_examples, shape_problems

START = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86400
SK = {"Authorization": "Bearer sk_test_x"}


def _sponsor_invoice(
    client: stripe.StripeClient, *, clock: str | None = None, amount: int = 150_000
) -> stripe.Invoice:
    params: dict[str, Any] = {"name": "Bass Audio Inc.", "email": "ap@bass.example"}
    if clock:
        params["test_clock"] = clock
    sponsor = client.v1.customers.create(params=params)  # type: ignore[arg-type]
    draft = client.v1.invoices.create(
        params={
            "customer": sponsor.id,
            "collection_method": "send_invoice",
            "days_until_due": 30,
            "metadata": {"sponsorship_id": "sp-1"},
        }
    )
    client.v1.invoice_items.create(
        params={
            "customer": sponsor.id,
            "invoice": draft.id,
            "amount": amount,
            "currency": "usd",
            "description": "Title sponsorship, Spring Finals",
        }
    )
    return client.v1.invoices.retrieve(draft.id)


def _types(client: stripe.StripeClient) -> list[str]:
    return [e.type for e in client.v1.events.list(params={"limit": 100}).data][::-1]


def test_sponsor_invoice_is_finalized_sent_and_paid_on_the_hosted_page(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    draft = _sponsor_invoice(client)

    opened = client.v1.invoices.finalize_invoice(draft.id)
    sent = client.v1.invoices.send_invoice(draft.id)
    page = http.get(f"/sandbox/invoices/{draft.id}")
    paid = http.post(f"/sandbox/invoices/{draft.id}/pay", json={"payment_method": "pm_card_visa"})

    assert draft.status == "draft"
    assert draft.amount_due == 150_000
    assert draft.due_date == draft.created + 30 * DAY
    assert opened.status == "open"
    assert opened.number is not None
    assert opened.hosted_invoice_url.endswith(f"/sandbox/invoices/{draft.id}")
    assert sent.status == "open"
    assert page.status_code == 200
    assert "$1,500.00" in page.text or "1500.00" in page.text
    assert paid.status_code == 200
    after = client.v1.invoices.retrieve(draft.id)
    assert after.status == "paid"
    assert after.amount_paid == 150_000
    assert after.amount_remaining == 0
    types = _types(client)
    for expected in ("invoice.created", "invoice.finalized", "invoice.sent", "invoice.paid"):
        assert expected in types
    assert types.index("invoice.sent") < types.index("invoice.paid")
    paid_event = client.v1.events.list(params={"type": "invoice.paid"}).data[0]
    assert paid_event.data.object.metadata.sponsorship_id == "sp-1"


def test_declined_hosted_payment_keeps_the_invoice_open_until_paid_through_the_api(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    invoice = _sponsor_invoice(client)
    client.v1.invoices.send_invoice(invoice.id)

    declined = http.post(
        f"/sandbox/invoices/{invoice.id}/pay", json={"payment_method": "pm_card_chargeDeclined"}
    )
    still_open = client.v1.invoices.retrieve(invoice.id)
    paid = client.v1.invoices.pay(invoice.id, params={"payment_method": "pm_card_visa"})

    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "card_declined"
    assert still_open.status == "open"
    assert still_open.attempt_count == 1
    assert paid.status == "paid"
    assert paid.attempt_count == 2
    assert "invoice.payment_failed" in _types(client)


def test_invoice_payment_intent_can_be_confirmed_by_the_sdk(client: stripe.StripeClient) -> None:
    invoice = _sponsor_invoice(client)
    opened = client.v1.invoices.finalize_invoice(
        invoice.id, params={"expand": ["payments", "confirmation_secret"]}
    )
    pi_id = opened.payments.data[0].payment.payment_intent

    client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_mastercard"})

    paid = client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]})
    assert paid.status == "paid"
    assert paid.payments.data[0].status == "paid"
    assert paid.payments.data[0].amount_paid == 150_000
    assert opened.confirmation_secret.type == "payment_intent"


def test_overdue_is_sent_once_when_the_clock_passes_the_due_date(
    client: stripe.StripeClient,
) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    invoice = _sponsor_invoice(client, clock=clock.id)
    client.v1.invoices.send_invoice(invoice.id)

    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": START + 29 * DAY})
    early = client.v1.events.list(params={"type": "invoice.overdue"}).data
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": START + 31 * DAY})
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": START + 40 * DAY})
    overdue = client.v1.events.list(params={"type": "invoice.overdue"}).data

    assert invoice.due_date == START + 30 * DAY
    assert early == []
    assert [e.data.object.id for e in overdue] == [invoice.id]
    assert client.v1.invoices.list(params={"status": "open"}).data[0].id == invoice.id


def test_paid_out_of_band_and_void(client: stripe.StripeClient) -> None:
    by_transfer = _sponsor_invoice(client)
    withdrawn = _sponsor_invoice(client, amount=50_000)
    client.v1.invoices.finalize_invoice(by_transfer.id)
    client.v1.invoices.finalize_invoice(withdrawn.id)

    paid = client.v1.invoices.pay(by_transfer.id, params={"paid_out_of_band": True})
    voided = client.v1.invoices.void_invoice(withdrawn.id)

    assert paid.status == "paid"
    assert paid.attempt_count == 0
    assert voided.status == "void"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.pay(voided.id, params={"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as editing:
        client.v1.invoice_items.create(
            params={"customer": paid.customer, "invoice": paid.id, "amount": 1, "currency": "usd"}
        )
    assert editing.value.code == "invoice_not_editable"


def test_send_invoice_needs_terms(client: stripe.StripeClient) -> None:
    sponsor = client.v1.customers.create()

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.invoices.create(
            params={"customer": sponsor.id, "collection_method": "send_invoice"}
        )

    assert missing.value.param == "days_until_due"


def test_pending_items_join_only_when_included(client: stripe.StripeClient) -> None:
    sponsor = client.v1.customers.create()
    client.v1.invoice_items.create(
        params={"customer": sponsor.id, "amount": 25_000, "currency": "usd"}
    )

    excluded = client.v1.invoices.create(
        params={"customer": sponsor.id, "collection_method": "send_invoice", "days_until_due": 7}
    )
    included = client.v1.invoices.create(
        params={
            "customer": sponsor.id,
            "collection_method": "send_invoice",
            "days_until_due": 7,
            "pending_invoice_items_behavior": "include",
        }
    )

    assert excluded.amount_due == 0
    assert included.amount_due == 25_000


def test_finalize_replays_with_the_same_idempotency_key(client: stripe.StripeClient) -> None:
    invoice = _sponsor_invoice(client)

    first = client.v1.invoices.finalize_invoice(invoice.id, options={"idempotency_key": "fin-1"})
    again = client.v1.invoices.finalize_invoice(invoice.id, options={"idempotency_key": "fin-1"})

    assert again.to_dict() == first.to_dict()
    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert _types(client).count("invoice.finalized") == 1
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.invoices.finalize_invoice(invoice.id, options={"idempotency_key": "fin-2"})
    assert twice.value.code == "invoice_not_editable"


def _billing_objects(client: stripe.StripeClient, http: httpx.Client) -> list[dict[str, Any]]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    product = client.v1.products.create(params={"name": "Manufacturer"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 19_900,
            "recurring": {"interval": "year"},
        }
    )
    customer = client.v1.customers.create(params={"test_clock": clock.id, "email": "m@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete",
            "expand": ["latest_invoice.payments"],
        }
    )
    pi_id = sub.latest_invoice.payments.data[0].payment.payment_intent
    client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_visa"})
    sponsor_invoice = _sponsor_invoice(client)
    client.v1.invoices.finalize_invoice(sponsor_invoice.id)

    def get(path: str) -> dict[str, Any]:
        body: dict[str, Any] = http.get(path, headers=SK).json()
        return body

    invoice = get(f"/v1/invoices/{sub.latest_invoice.id}?expand[]=payments")
    payment = invoice.pop("payments")["data"][0]
    objects = [
        get(f"/v1/products/{product.id}"),
        get(f"/v1/prices/{price.id}"),
        get(f"/v1/customers/{customer.id}"),
        get(f"/v1/subscriptions/{sub.id}"),
        invoice,
        get(f"/v1/invoices/{sponsor_invoice.id}"),
        get(f"/v1/test_helpers/test_clocks/{clock.id}"),
        payment,
        *get("/v1/invoiceitems")["data"],
        *get(f"/v1/invoices/{sponsor_invoice.id}/lines")["data"],
    ]
    subscription = objects[3]
    objects.append(subscription["items"]["data"][0])
    return objects


def test_billing_objects_and_events_have_stripes_keys(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    examples = load_examples()
    kinds = {
        "product": "product",
        "price": "price",
        "customer": "customer",
        "subscription": "subscription",
        "invoice": "invoice",
        "test_helpers.test_clock": "test_helpers.test_clock",
        "invoice_payment": "invoice_payment",
        "invoiceitem": "invoiceitem",
        "line_item": "line_item",
        "subscription_item": "subscription_item",
    }

    objects = _billing_objects(client, http)
    events = http.get("/v1/events", params={"limit": 100}, headers=SK).json()["data"]

    assert {obj["object"] for obj in objects} == set(kinds)
    problems: list[str] = []
    for obj in objects:
        problems += shape_problems(obj, examples[kinds[obj["object"]]], obj["object"], examples)
    billing_events = [e for e in events if e["data"]["object"]["object"] in kinds]
    assert len(billing_events) > 10
    for evt in billing_events:
        snapshot = evt["data"]["object"]
        problems += shape_problems(snapshot, examples[snapshot["object"]], evt["type"], examples)
    assert problems == []


def test_overdue_control_sends_overdue_once_for_an_invoice_without_a_clock(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    invoice = _sponsor_invoice(client)
    client.v1.invoices.send_invoice(invoice.id)
    paid = _sponsor_invoice(client, amount=10_000)
    client.v1.invoices.pay(paid.id, params={"paid_out_of_band": True})

    first = http.post(f"/_sandbox/invoices/{invoice.id}/overdue")
    second = http.post(f"/_sandbox/invoices/{invoice.id}/overdue")
    refused = http.post(f"/_sandbox/invoices/{paid.id}/overdue")

    assert first.status_code == second.status_code == 200
    assert refused.status_code == 409
    overdue = client.v1.events.list(params={"type": "invoice.overdue"}).data
    assert [e.data.object.id for e in overdue] == [invoice.id]


def test_hosted_payment_with_3d_secure_is_paid_after_the_challenge(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    invoice = _sponsor_invoice(client)
    client.v1.invoices.send_invoice(invoice.id)

    answer = http.post(
        f"/sandbox/invoices/{invoice.id}/pay",
        json={"payment_method": "pm_card_authenticationRequired"},
    )
    waiting = client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]})
    pi_id = waiting.payments.data[0].payment.payment_intent
    http.post(f"/sandbox/3ds/{pi_id}/complete").raise_for_status()

    assert answer.status_code == 200
    assert answer.json()["requires_action"] is True
    assert waiting.status == "open"
    assert client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert "invoice.payment_action_required" in _types(client)
