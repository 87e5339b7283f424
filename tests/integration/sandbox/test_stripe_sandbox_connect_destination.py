"""Destination charges: transfer, application fee, their events, books, and undoing them on refund.

Money flow checked against Stripe's model (sandbox/stripe/movements.py): the full amount goes to
the organizer's account, the platform takes the application fee back and pays Stripe's fee.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import stripe
from sandbox_shapes import collapse_references, load_examples, shape_problems

from conftest import ConnectedAccount, Receiver
from eventpay.sandbox.stripe.fees import stripe_fee

SK = {"Authorization": "Bearer sk_test_destination"}


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    return load_examples()


def _destination_payment(
    client: stripe.StripeClient, acct_id: str, amount: int = 10_000, fee: int = 550, **extra: Any
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_data": {"destination": acct_id},
            "application_fee_amount": fee,
            **extra,
        }
    )


def _available(client: stripe.StripeClient, acct_id: str | None = None) -> int:
    options: Any = {"stripe_account": acct_id} if acct_id else {}
    found = client.v1.balance.retrieve(options=options)
    return sum(entry.amount for entry in found.available if entry.currency == "usd")


def test_a_destination_charge_transfers_and_collects_the_application_fee(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()

    intent = _destination_payment(client, acct, on_behalf_of=acct)
    charge = client.v1.charges.retrieve(
        str(intent.latest_charge), params={"expand": ["transfer", "application_fee"]}
    )
    transfer, fee = charge.transfer, charge.application_fee  # type: ignore[attr-defined]

    assert intent.transfer_data.destination == acct  # type: ignore[union-attr]
    assert (intent.application_fee_amount, intent.on_behalf_of) == (550, acct)
    assert charge.transfer_data.destination == acct  # type: ignore[union-attr]
    assert (charge.application_fee_amount, charge.on_behalf_of) == (550, acct)
    assert charge.transfer_group == f"group_{intent.id}"
    assert (transfer.amount, transfer.destination, transfer.currency) == (10_000, acct, "usd")
    assert transfer.source_transaction == charge.id
    assert transfer.transfer_group == charge.transfer_group
    assert (fee.amount, fee.account, fee.charge) == (550, acct, charge.id)
    assert client.v1.application_fees.retrieve(fee.id).amount_refunded == 0
    assert [f.id for f in client.v1.application_fees.list(params={"charge": charge.id}).data] == [
        fee.id
    ]
    # Platform: the fee it keeps less Stripe's; organizer: the rest.
    assert _available(client) == 550 - stripe_fee(10_000, "usd")
    assert _available(client, acct) == 10_000 - 550


def test_the_connected_account_sees_the_payment_less_the_application_fee(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    _destination_payment(client, acct)

    txns = client.v1.balance_transactions.list(options={"stripe_account": acct}).data
    platform = client.v1.balance_transactions.list().data

    assert [(t.type, t.amount, t.fee, t.net) for t in txns] == [("payment", 10_000, 550, 9450)]
    assert [d.type for d in txns[0].fee_details] == ["application_fee"]
    assert [t.type for t in platform] == ["application_fee", "transfer", "charge"]
    assert [t.amount for t in platform] == [550, -10_000, 10_000]


def test_transfer_and_fee_events_follow_the_payment_and_are_signed(
    client: stripe.StripeClient,
    connected_account: ConnectedAccount,
    receiver: Receiver,
    wait_until: Any,
) -> None:
    acct = connected_account()
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["*"]}
    )

    _destination_payment(client, acct)
    deliveries = wait_until(lambda: len(receiver.received()) >= 5 and receiver.received(), "events")
    verified = [
        stripe.Webhook.construct_event(
            d.body.decode(), d.headers["Stripe-Signature"], str(endpoint.secret)
        )
        for d in deliveries
    ]

    types = [event.type for event in verified]
    assert sorted(types) == sorted(
        [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "transfer.created",
            "application_fee.created",
        ]
    )
    listed = [e.type for e in client.v1.events.list().data][::-1]
    assert listed[-2:] == ["transfer.created", "application_fee.created"]


def test_destination_rules_are_stripes(
    client: stripe.StripeClient, http: httpx.Client, connected_account: ConnectedAccount
) -> None:
    fresh = client.v1.accounts.create(params={"type": "express"})
    acct = connected_account()
    base = {"amount": "1000", "currency": "usd"}

    not_onboarded = http.post(
        "/v1/payment_intents", data={**base, "transfer_data[destination]": fresh.id}, headers=SK
    ).json()["error"]
    fee_alone = http.post(
        "/v1/payment_intents", data={**base, "application_fee_amount": "10"}, headers=SK
    ).json()["error"]
    too_big = http.post(
        "/v1/payment_intents",
        data={**base, "transfer_data[destination]": acct, "application_fee_amount": "1001"},
        headers=SK,
    ).json()["error"]
    other_merchant = http.post(
        "/v1/payment_intents",
        data={**base, "transfer_data[destination]": acct, "on_behalf_of": fresh.id},
        headers=SK,
    ).json()["error"]
    missing = http.post(
        "/v1/payment_intents", data={**base, "transfer_data[destination]": "acct_no"}, headers=SK
    ).json()["error"]

    assert not_onboarded["code"] == "insufficient_capabilities_for_transfer"
    assert not_onboarded["param"] == "transfer_data[destination]"
    assert fee_alone["param"] == "application_fee_amount"
    assert too_big["param"] == "application_fee_amount"
    assert other_merchant["param"] == "on_behalf_of"
    assert (missing["code"], missing["param"]) == ("resource_missing", "transfer_data[destination]")
    assert client.v1.payment_intents.list().data == []


def test_a_partial_refund_reverses_the_transfer_and_fee_in_proportion(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    intent = _destination_payment(client, acct, amount=10_000, fee=555)

    refund = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "amount": 2500,
            "reverse_transfer": True,
            "refund_application_fee": True,
        }
    )
    charge = client.v1.charges.retrieve(
        str(intent.latest_charge), params={"expand": ["transfer", "application_fee"]}
    )
    reversal = client.v1.transfers.reversals.list(charge.transfer.id).data  # type: ignore[attr-defined]
    fee_refunds = client.v1.application_fees.refunds.list(charge.application_fee.id).data  # type: ignore[attr-defined]

    assert refund.transfer_reversal == reversal[0].id
    assert (reversal[0].amount, reversal[0].source_refund) == (2500, refund.id)
    assert charge.transfer.amount_reversed == 2500  # type: ignore[attr-defined]
    assert charge.transfer.reversed is False  # type: ignore[attr-defined]
    # 555 * 2500 / 10000 = 138.75, rounded half up.
    assert [r.amount for r in fee_refunds] == [139]
    assert charge.application_fee.amount_refunded == 139  # type: ignore[attr-defined]
    assert _available(client, acct) == 10_000 - 555 - 2500 + 139
    kinds = [e.type for e in client.v1.events.list(params={"limit": 4}).data][::-1]
    assert kinds == [
        "charge.refunded",
        "refund.created",
        "transfer.reversed",
        "application_fee.refunded",
    ]


def test_a_full_refund_in_steps_leaves_the_organizer_at_zero_and_the_platform_paying_stripe(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    intent = _destination_payment(client, acct, amount=999, fee=101)
    undo = {"payment_intent": intent.id, "reverse_transfer": True, "refund_application_fee": True}

    for amount in (333, 333, 333):
        client.v1.refunds.create(params={**undo, "amount": amount})
    fee = client.v1.application_fees.list().data[0]
    transfer = client.v1.transfers.list().data[0]

    assert (fee.amount_refunded, fee.refunded) == (101, True)
    assert (transfer.amount_reversed, transfer.reversed) == (999, True)
    assert _available(client, acct) == 0
    assert _available(client) == -stripe_fee(999, "usd")


def test_without_the_flags_the_organizer_keeps_the_transfer(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    intent = _destination_payment(client, acct)

    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    assert refund.transfer_reversal is None
    assert _available(client, acct) == 10_000 - 550
    assert _available(client) == 550 - stripe_fee(10_000, "usd") - 10_000


def test_reverse_transfer_needs_a_destination_charge(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent.id, "reverse_transfer": True})

    assert refused.value.param == "reverse_transfer"
    assert client.v1.refunds.list().data == []


def test_an_idempotent_retry_makes_one_transfer_and_one_fee(
    http: httpx.Client, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    data = {
        "amount": "2000",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "transfer_data[destination]": acct,
        "application_fee_amount": "100",
    }
    headers = {**SK, "Idempotency-Key": "order-7-attempt-1"}

    first = http.post("/v1/payment_intents", data=data, headers=headers)
    again = http.post("/v1/payment_intents", data=data, headers=headers)

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert len(http.get("/v1/transfers", headers=SK).json()["data"]) == 1
    assert len(http.get("/v1/application_fees", headers=SK).json()["data"]) == 1


def test_destination_objects_have_stripes_keys(
    http: httpx.Client, connected_account: ConnectedAccount, examples: dict[str, Any]
) -> None:
    acct = connected_account()
    paid = http.post(
        "/v1/payment_intents",
        data={
            "amount": "3000",
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "transfer_data[destination]": acct,
            "application_fee_amount": "300",
        },
        headers=SK,
    ).json()
    http.post(
        "/v1/refunds",
        data={
            "payment_intent": paid["id"],
            "amount": "1000",
            "reverse_transfer": "true",
            "refund_application_fee": "true",
        },
        headers=SK,
    ).raise_for_status()
    charge = http.get(f"/v1/charges/{paid['latest_charge']}", headers=SK).json()
    transfer = http.get(f"/v1/transfers/{charge['transfer']}", headers=SK).json()
    fee = http.get(f"/v1/application_fees/{charge['application_fee']}", headers=SK).json()
    reversal = transfer["reversals"]["data"][0]
    fee_refund = fee["refunds"]["data"][0]
    events = http.get("/v1/events?limit=100", headers=SK).json()["data"]

    def problems(obj: dict[str, Any], kind: str) -> list[str]:
        return shape_problems(obj, collapse_references(examples[kind]), kind, examples)

    # Stripe adds `transfer` to destination charges only (optional in its OpenAPI schema).
    assert set(charge) == set(examples["charge"]) | {"transfer"}
    assert problems({k: v for k, v in charge.items() if k != "transfer"}, "charge") == []
    assert set(paid) == set(examples["payment_intent"])
    assert problems(paid, "payment_intent") == []
    for obj, kind in [
        (transfer, "transfer"),
        (fee, "application_fee"),
        (reversal, "transfer_reversal"),
        (fee_refund, "fee_refund"),
    ]:
        assert set(obj) == set(examples[kind]), kind
        assert problems(obj, kind) == []
    collapsed = {kind: collapse_references(example) for kind, example in examples.items()}
    for event in events:
        snapshot = event["data"]["object"]
        if snapshot["object"] == "charge":
            snapshot.pop("transfer")
        assert shape_problems(event, examples["event"], event["type"], collapsed) == []
    assert {
        "transfer.created",
        "application_fee.created",
        "transfer.reversed",
        "application_fee.refunded",
    } <= {e["type"] for e in events}
    assert json.loads(json.dumps(reversal))["transfer"] == transfer["id"]


def test_a_declined_destination_charge_moves_no_money(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()

    with pytest.raises(stripe.CardError) as declined:
        _destination_payment(client, acct, payment_method="pm_card_chargeDeclined")
    charge = client.v1.charges.retrieve(str(declined.value.error.charge))  # type: ignore[union-attr]

    assert charge.status == "failed"
    assert charge.transfer_data.destination == acct  # type: ignore[union-attr]
    assert "transfer" not in charge
    assert charge.application_fee is None
    assert client.v1.transfers.list().data == []
    assert client.v1.balance_transactions.list().data == []
    assert _available(client, acct) == 0


def test_on_behalf_of_alone_names_the_settlement_merchant_without_a_transfer(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()

    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "on_behalf_of": acct,
        }
    )
    charge = client.v1.charges.retrieve(str(intent.latest_charge))

    assert charge.on_behalf_of == acct
    assert charge.transfer_data is None
    assert client.v1.transfers.list().data == []
