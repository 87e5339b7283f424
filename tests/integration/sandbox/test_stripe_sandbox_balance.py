"""Balance transactions with Stripe's fee, their listing filters, `expand`, and the balance.

The fee rule (2.9 % + 30 minor units, documented in sandbox/stripe/fees.py) is checked here
through the API and directly for the currency cases; shapes follow fixtures3.json.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from sandbox_shapes import load_examples, shape_problems

from eventpay.sandbox.stripe.fees import stripe_fee

SK = {"Authorization": "Bearer sk_test_balance"}


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    return load_examples()


def _paid(client: stripe.StripeClient, amount: int = 4500, currency: str = "usd") -> Any:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "description": "Ticket order o-1",
        }
    )


@pytest.mark.parametrize(
    ("amount", "currency", "fee"),
    [
        (4500, "usd", 161),  # 130.5 rounds half up to 131, + 30
        (1000, "eur", 59),  # 29 + 30
        (10_000, "gbp", 320),
        (5000, "jpy", 175),  # zero-decimal: 145 + 30 yen
        (10_000, "kwd", 590),  # three-decimal: 290 + 300 (0.300 KWD)
        (100_000, "isk", 5900),  # 29 ISK (2900) + 30 ISK (3000): whole units only
        (20, "usd", 20),  # never more than the amount
        (0, "usd", 0),
    ],
)
def test_stripe_fee_rule(amount: int, currency: str, fee: int) -> None:
    assert stripe_fee(amount, currency) == fee


def test_a_charge_has_a_balance_transaction_with_stripes_fee_reachable_by_expand(
    client: stripe.StripeClient,
) -> None:
    intent = _paid(client)

    fetched = client.v1.payment_intents.retrieve(
        intent.id, params={"expand": ["latest_charge.balance_transaction"]}
    )
    charge = client.v1.charges.retrieve(
        str(intent.latest_charge), params={"expand": ["balance_transaction"]}
    )

    txn = fetched.latest_charge.balance_transaction  # type: ignore[union-attr]
    assert txn.object == "balance_transaction"
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (4500, 161, 4339, "usd")
    assert txn.type == "charge"
    assert txn.reporting_category == "charge"
    assert txn.source == intent.latest_charge
    assert txn.description == "Ticket order o-1"
    assert [(d.type, d.amount, d.currency) for d in txn.fee_details] == [("stripe_fee", 161, "usd")]
    assert charge.balance_transaction.id == txn.id  # type: ignore[union-attr]
    assert client.v1.balance_transactions.retrieve(txn.id).net == 4339


def test_a_refund_has_its_own_negative_balance_transaction_without_fee(
    client: stripe.StripeClient,
) -> None:
    intent = _paid(client)

    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1500})
    txn = client.v1.balance_transactions.retrieve(str(refund.balance_transaction))

    assert (txn.amount, txn.fee, txn.net, txn.type) == (-1500, 0, -1500, "refund")
    assert txn.source == refund.id
    assert txn.reporting_category == "refund"
    assert txn.fee_details == []


def test_listing_filters_by_type_source_and_created_and_pages(
    client: stripe.StripeClient,
) -> None:
    first, second = _paid(client, 1000), _paid(client, 2000)
    refund = client.v1.refunds.create(params={"payment_intent": first.id})
    everything = client.v1.balance_transactions.list()
    created = everything.data[0].created

    charges = client.v1.balance_transactions.list(params={"type": "charge"})
    by_source = client.v1.balance_transactions.list(params={"source": refund.id})
    later = client.v1.balance_transactions.list(params={"created": {"gte": created + 1}})
    since = client.v1.balance_transactions.list(params={"created": {"gte": created - 60}})
    page = client.v1.balance_transactions.list(params={"limit": 1})
    rest = client.v1.balance_transactions.list(
        params={"limit": 2, "starting_after": page.data[0].id}
    )

    assert [t.amount for t in everything.data] == [-1000, 2000, 1000]
    assert [t.source for t in charges.data] == [second.latest_charge, first.latest_charge]
    assert [t.type for t in by_source.data] == ["refund"]
    assert later.data == []
    assert len(since.data) == 3
    assert page.has_more is True
    assert [t.id for t in page.data + rest.data] == [t.id for t in everything.data]
    assert rest.has_more is False


def test_the_balance_is_the_sum_of_nets_per_currency(client: stripe.StripeClient) -> None:
    _paid(client, 4500, "usd")
    refunded = _paid(client, 1000, "usd")
    _paid(client, 5000, "jpy")
    client.v1.refunds.create(params={"payment_intent": refunded.id, "amount": 400})

    found = client.v1.balance.retrieve()

    available = {entry.currency: entry.amount for entry in found.available}
    assert available == {"usd": (4500 - 161) + (1000 - 59) - 400, "jpy": 5000 - 175}
    assert {entry.currency: entry.amount for entry in found.pending} == {"usd": 0, "jpy": 0}


def test_an_unknown_balance_transaction_is_a_404(http: httpx.Client) -> None:
    answer = http.get("/v1/balance_transactions/txn_nope", headers=SK)

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "resource_missing"


def test_balance_objects_have_stripes_keys(
    client: stripe.StripeClient, http: httpx.Client, examples: dict[str, Any]
) -> None:
    intent = _paid(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})

    txns = http.get("/v1/balance_transactions", headers=SK).json()["data"]
    found = http.get("/v1/balance", headers=SK).json()

    assert {t["type"] for t in txns} == {"charge", "refund"}
    for txn in txns:
        assert set(txn) == set(examples["balance_transaction"])
        assert shape_problems(txn, examples["balance_transaction"], txn["id"], examples) == []
    assert set(found) == set(examples["balance"])
    assert shape_problems(found, examples["balance"], "balance", examples) == []
    for line in txns[1]["fee_details"]:
        assert set(line) == {"amount", "application", "currency", "description", "type"}


def test_a_failed_refund_gives_the_money_back_in_a_balance_transaction(
    client: stripe.StripeClient, http: httpx.Client, wait_until: Any
) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "payment_method": "pm_card_refundFail",
            "confirm": True,
        }
    )
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    failed = wait_until(
        lambda: (r := client.v1.refunds.retrieve(refund.id)).status == "failed" and r,
        "the refund to fail",
    )
    txn = client.v1.balance_transactions.retrieve(str(failed.failure_balance_transaction))

    assert (txn.amount, txn.type, txn.source) == (3000, "refund_failure", refund.id)
    assert client.v1.balance.retrieve().available[0].amount == 3000 - stripe_fee(3000, "usd")
