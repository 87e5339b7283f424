"""Payouts from the platform and, with Stripe-Account, from a connected account: paid or failed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from sandbox_shapes import load_examples, shape_problems

from conftest import ConnectedAccount
from eventpay.sandbox.stripe.fees import stripe_fee

SK = {"Authorization": "Bearer sk_test_payouts"}


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    return load_examples()


def _organizer_with_money(
    client: stripe.StripeClient, connected_account: ConnectedAccount, amount: int = 5000
) -> str:
    acct = connected_account()
    client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_data": {"destination": acct},
        }
    )
    return acct


def test_a_connected_account_payout_goes_pending_then_paid(
    client: stripe.StripeClient, connected_account: ConnectedAccount, wait_until: Any
) -> None:
    acct = _organizer_with_money(client, connected_account)
    on_behalf: Any = {"stripe_account": acct}

    payout = client.v1.payouts.create(
        params={"amount": 3000, "currency": "usd", "metadata": {"run": "r1"}}, options=on_behalf
    )
    left = client.v1.balance.retrieve(options=on_behalf).available[0].amount
    paid = wait_until(
        lambda: (
            (p := client.v1.payouts.retrieve(payout.id, options=on_behalf)).status == "paid" and p
        ),
        "the payout to be paid",
    )
    events = client.v1.events.list(params={"type": "payout.*"}).data

    assert payout.status == "pending"
    bank = client.v1.accounts.retrieve(acct).external_accounts.data[0].id
    assert payout.destination == bank
    assert left == 2000
    txn = client.v1.balance_transactions.retrieve(
        str(payout.balance_transaction), options=on_behalf
    )
    assert (txn.type, txn.amount) == ("payout", -3000)
    assert paid.status == "paid"
    assert [e.type for e in events][::-1] == ["payout.created", "payout.updated", "payout.paid"]
    assert [p.id for p in client.v1.payouts.list(options=on_behalf).data] == [payout.id]
    assert client.v1.payouts.list().data == []


def test_a_failed_payout_returns_the_money_and_emits_payout_failed(
    client: stripe.StripeClient, http: httpx.Client, connected_account: ConnectedAccount
) -> None:
    acct = _organizer_with_money(client, connected_account)
    on_behalf: Any = {"stripe_account": acct}
    payout = client.v1.payouts.create(params={"amount": 5000, "currency": "usd"}, options=on_behalf)

    answer = http.post(f"/_sandbox/payouts/{payout.id}/fail", json={"failure_code": "no_account"})
    failed = client.v1.payouts.retrieve(payout.id, options=on_behalf)
    events = client.v1.events.list(params={"type": "payout.failed"}).data

    assert answer.status_code == 200
    assert (failed.status, failed.failure_code) == ("failed", "no_account")
    assert failed.failure_message
    back = client.v1.balance_transactions.retrieve(
        str(failed.failure_balance_transaction), options=on_behalf
    )
    assert (back.type, back.amount) == ("payout_failure", 5000)
    assert client.v1.balance.retrieve(options=on_behalf).available[0].amount == 5000
    assert [e.data.object.id for e in events] == [payout.id]
    assert http.post(f"/_sandbox/payouts/{payout.id}/fail", json={}).status_code == 409


def test_the_platform_pays_out_its_own_balance(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    have = 2000 - stripe_fee(2000, "usd")

    payout = client.v1.payouts.create(params={"amount": have, "currency": "usd"})
    paid = http.post(f"/_sandbox/payouts/{payout.id}/pay").json()

    assert paid["status"] == "paid"
    assert client.v1.balance.retrieve().available[0].amount == 0
    assert [e.type for e in client.v1.events.list(params={"type": "payout.paid"}).data] == [
        "payout.paid"
    ]


def test_payouts_need_funds_and_an_enabled_account(
    client: stripe.StripeClient, http: httpx.Client, connected_account: ConnectedAccount
) -> None:
    acct = _organizer_with_money(client, connected_account, 1000)
    http.post(f"/_sandbox/accounts/{acct}/state", json={"payouts_enabled": False})

    too_much = http.post(
        "/v1/payouts", data={"amount": "5000", "currency": "usd"}, headers=SK
    ).json()["error"]
    disabled = http.post(
        "/v1/payouts",
        data={"amount": "100", "currency": "usd"},
        headers={**SK, "Stripe-Account": acct},
    ).json()["error"]
    stranger = http.get("/v1/balance", headers={**SK, "Stripe-Account": "acct_nobody"})

    assert too_much["code"] == "balance_insufficient"
    assert disabled["code"] == "payouts_not_allowed"
    assert stranger.status_code == 403
    assert stranger.json()["error"]["code"] == "account_invalid"
    assert client.v1.payouts.list().data == []


def test_idempotency_keys_are_scoped_to_the_account(
    http: httpx.Client, client: stripe.StripeClient, connected_account: ConnectedAccount
) -> None:
    first = _organizer_with_money(client, connected_account)
    second = _organizer_with_money(client, connected_account)
    data = {"amount": "100", "currency": "usd"}

    a = http.post(
        "/v1/payouts",
        data=data,
        headers={**SK, "Stripe-Account": first, "Idempotency-Key": "run-1"},
    )
    again = http.post(
        "/v1/payouts",
        data=data,
        headers={**SK, "Stripe-Account": first, "Idempotency-Key": "run-1"},
    )
    b = http.post(
        "/v1/payouts",
        data=data,
        headers={**SK, "Stripe-Account": second, "Idempotency-Key": "run-1"},
    )

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == a.json()["id"]
    assert "Idempotent-Replayed" not in b.headers
    assert b.json()["id"] != a.json()["id"]


def test_payouts_have_stripes_keys(
    http: httpx.Client,
    client: stripe.StripeClient,
    connected_account: ConnectedAccount,
    examples: dict[str, Any],
) -> None:
    acct = _organizer_with_money(client, connected_account)
    headers = {**SK, "Stripe-Account": acct}
    created = http.post("/v1/payouts", data={"amount": "100", "currency": "usd"}, headers=headers)
    paid = http.post(f"/_sandbox/payouts/{created.json()['id']}/pay").json()
    failed = http.post(f"/_sandbox/payouts/{paid['id']}/fail", json={}).json()
    events = http.get("/v1/events?type=payout.*", headers=SK).json()["data"]

    for payout in (created.json(), paid, failed):
        assert set(payout) == set(examples["payout"])
        assert shape_problems(payout, examples["payout"], payout["status"], examples) == []
    for event in events:
        assert shape_problems(event, examples["event"], event["type"], examples) == []
    assert {e["type"] for e in events} == {
        "payout.created",
        "payout.updated",
        "payout.paid",
        "payout.failed",
    }
