"""Separate charges and transfers: transfer_group, source_transaction, balance checks, reversals."""

from __future__ import annotations

import pytest
import stripe

from conftest import ConnectedAccount
from eventpay.sandbox.stripe.fees import stripe_fee


def _paid(client: stripe.StripeClient, amount: int, group: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_group": group,
        }
    )


def test_one_cart_pays_two_organizers_with_one_transfer_group(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    first, second = connected_account(), connected_account()
    intent = _paid(client, 10_000, "order-42")
    charge = str(intent.latest_charge)

    a = client.v1.transfers.create(
        params={
            "amount": 6000,
            "currency": "usd",
            "destination": first,
            "transfer_group": "order-42",
            "source_transaction": charge,
            "metadata": {"organizer": "o1"},
        }
    )
    b = client.v1.transfers.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "destination": second,
            "transfer_group": "order-42",
            "source_transaction": charge,
        }
    )
    grouped = client.v1.transfers.list(params={"transfer_group": "order-42"}).data
    other = client.v1.transfers.list(params={"transfer_group": "order-43"}).data

    assert client.v1.charges.retrieve(charge).transfer_group == "order-42"
    assert [t.id for t in grouped] == [b.id, a.id]
    assert other == []
    assert client.v1.transfers.retrieve(a.id).metadata.to_dict() == {"organizer": "o1"}
    assert [t.id for t in client.v1.transfers.list(params={"destination": second}).data] == [b.id]
    events = [
        e.data.object.id for e in client.v1.events.list(params={"type": "transfer.created"}).data
    ]
    assert events == [b.id, a.id]
    usd = client.v1.balance.retrieve().available[0].amount
    assert usd == 10_000 - stripe_fee(10_000, "usd") - 9000
    mine = client.v1.balance.retrieve(options={"stripe_account": first}).available[0].amount
    assert mine == 6000


def test_a_transfer_cannot_exceed_its_source_transaction_or_change_currency(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    charge = str(_paid(client, 1000, "g").latest_charge)
    client.v1.transfers.create(
        params={"amount": 800, "currency": "usd", "destination": acct, "source_transaction": charge}
    )

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(
            params={
                "amount": 201,
                "currency": "usd",
                "destination": acct,
                "source_transaction": charge,
            }
        )
    assert (refused.value.code, refused.value.param) == ("amount_too_large", "amount")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(
            params={
                "amount": 10,
                "currency": "eur",
                "destination": acct,
                "source_transaction": charge,
            }
        )
    assert refused.value.param == "currency"
    assert len(client.v1.transfers.list().data) == 1


def test_without_a_source_the_platform_balance_must_cover_the_transfer(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    _paid(client, 1000, "g")
    have = 1000 - stripe_fee(1000, "usd")

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(
            params={"amount": have + 1, "currency": "usd", "destination": acct}
        )
    assert refused.value.code == "balance_insufficient"
    done = client.v1.transfers.create(
        params={"amount": have, "currency": "usd", "destination": acct}
    )

    assert done.amount == have
    assert client.v1.balance.retrieve().available[0].amount == 0


def test_a_transfer_needs_an_account_that_can_receive_transfers(
    client: stripe.StripeClient,
) -> None:
    _paid(client, 1000, "g")
    fresh = client.v1.accounts.create(params={"type": "express"})

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(
            params={"amount": 10, "currency": "usd", "destination": fresh.id}
        )
    assert (refused.value.code, refused.value.param) == (
        "insufficient_capabilities_for_transfer",
        "destination",
    )


def test_reversals_take_money_back_up_to_the_transfer(
    client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    acct = connected_account()
    charge = str(_paid(client, 5000, "g").latest_charge)
    transfer = client.v1.transfers.create(
        params={
            "amount": 4000,
            "currency": "usd",
            "destination": acct,
            "source_transaction": charge,
        }
    )

    part = client.v1.transfers.reversals.create(transfer.id, params={"amount": 1500})
    rest = client.v1.transfers.reversals.create(transfer.id)
    after = client.v1.transfers.retrieve(transfer.id)

    assert (part.amount, rest.amount) == (1500, 2500)
    assert part.source_refund is None
    assert part.transfer == transfer.id
    assert (after.amount_reversed, after.reversed) == (4000, True)
    assert [r.id for r in after.reversals.data] == [rest.id, part.id]
    assert client.v1.balance.retrieve(options={"stripe_account": acct}).available[0].amount == 0
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 1})
    kinds = [e.type for e in client.v1.events.list(params={"type": "transfer.reversed"}).data]
    assert kinds == ["transfer.reversed", "transfer.reversed"]
