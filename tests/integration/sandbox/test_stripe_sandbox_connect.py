"""Connect: Express accounts, account links and onboarding, and the account-state control."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import stripe
from sandbox_shapes import load_examples, shape_problems

from conftest import Receiver

SK = {"Authorization": "Bearer sk_test_connect"}


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    return load_examples()


def _link(client: stripe.StripeClient, acct_id: str) -> stripe.AccountLink:
    return client.v1.account_links.create(
        params={
            "account": acct_id,
            "refresh_url": "https://eventpay.example/connect/refresh",
            "return_url": "https://eventpay.example/connect/done",
            "type": "account_onboarding",
        }
    )


def test_a_new_express_account_cannot_take_charges_or_payouts_yet(
    client: stripe.StripeClient,
) -> None:
    account = client.v1.accounts.create(
        params={
            "type": "express",
            "country": "US",
            "email": "organizer@example.com",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "metadata": {"organizer_id": "org-1"},
        }
    )

    assert account.id.startswith("acct_")
    assert account.type == "express"
    assert (account.charges_enabled, account.payouts_enabled) == (False, False)
    assert account.details_submitted is False
    assert "external_account" in account.requirements.currently_due
    assert account.capabilities.transfers == "inactive"
    assert account.metadata.to_dict() == {"organizer_id": "org-1"}
    assert client.v1.accounts.retrieve(account.id).email == "organizer@example.com"
    assert [a.id for a in client.v1.accounts.list().data] == [account.id]


def test_only_express_accounts_exist_and_unknown_ones_are_404(http: httpx.Client) -> None:
    standard = http.post("/v1/accounts", data={"type": "standard"}, headers=SK)
    missing = http.get("/v1/accounts/acct_nope", headers=SK)

    assert standard.status_code == 400
    assert standard.json()["error"]["param"] == "type"
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"


def test_completing_onboarding_enables_the_account_and_emits_account_updated(
    client: stripe.StripeClient, http: httpx.Client, receiver: Receiver, wait_until: Any
) -> None:
    client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["account.updated"]}
    )
    account = client.v1.accounts.create(params={"type": "express"})
    link = _link(client, account.id)

    page = httpx.get(link.url)
    done = httpx.post(f"{link.url}/complete", data={"choice": "complete"})
    onboarded = client.v1.accounts.retrieve(account.id)
    delivery = wait_until(receiver.received, "account.updated to be delivered")[0]
    event = json.loads(delivery.body)

    assert link.url.startswith(http.base_url.__str__().rstrip("/") + "/sandbox/connect/")
    assert link.expires_at > link.created
    assert page.status_code == 200
    assert account.id in page.text
    assert done.status_code == 303
    assert done.headers["location"] == "https://eventpay.example/connect/done"
    assert (onboarded.charges_enabled, onboarded.payouts_enabled) == (True, True)
    assert onboarded.requirements.currently_due == []
    assert onboarded.details_submitted is True
    assert onboarded.capabilities.transfers == "active"
    assert [ba.object for ba in onboarded.external_accounts.data] == ["bank_account"]
    assert event["type"] == "account.updated"
    assert event["data"]["object"]["charges_enabled"] is True
    assert event["data"]["previous_attributes"]["charges_enabled"] is False
    assert event["data"]["previous_attributes"]["requirements"]["currently_due"] != []
    assert "Stripe-Signature" in delivery.headers


def test_a_used_link_redirects_to_refresh_url_and_leaving_changes_nothing(
    client: stripe.StripeClient,
) -> None:
    account = client.v1.accounts.create(params={"type": "express"})
    link = _link(client, account.id)

    left = httpx.post(f"{link.url}/leave", data={"choice": "leave"})
    again = httpx.get(link.url)

    assert left.headers["location"] == "https://eventpay.example/connect/done"
    assert client.v1.accounts.retrieve(account.id).charges_enabled is False
    assert again.status_code == 303
    assert again.headers["location"] == "https://eventpay.example/connect/refresh"
    assert client.v1.events.list(params={"type": "account.updated"}).data == []


def test_account_link_needs_an_existing_account_and_its_urls(http: httpx.Client) -> None:
    missing = http.post(
        "/v1/account_links",
        data={
            "account": "acct_nope",
            "refresh_url": "https://x.example/r",
            "return_url": "https://x.example/d",
            "type": "account_onboarding",
        },
        headers=SK,
    )
    no_return = http.post(
        "/v1/account_links", data={"account": "acct_x", "refresh_url": "u"}, headers=SK
    )

    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "account"
    assert no_return.json()["error"]["code"] == "parameter_missing"


def test_the_state_control_sets_requirements_and_emits_account_updated(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    account = client.v1.accounts.create(params={"type": "express"})
    state = {"charges_enabled": True, "payouts_enabled": False, "currently_due": ["individual.dob"]}

    answer = http.post(f"/_sandbox/accounts/{account.id}/state", json=state)
    events = client.v1.events.list(params={"type": "account.updated"}).data

    assert answer.status_code == 200
    assert answer.json()["requirements"]["currently_due"] == ["individual.dob"]
    assert (answer.json()["charges_enabled"], answer.json()["payouts_enabled"]) == (True, False)
    assert len(events) == 1
    assert events[0].data.previous_attributes["charges_enabled"] is False
    assert http.post("/_sandbox/accounts/acct_nope/state", json=state).status_code == 404


def test_accounts_and_links_have_stripes_keys(
    client: stripe.StripeClient, http: httpx.Client, examples: dict[str, Any]
) -> None:
    created = http.post("/v1/accounts", data={"type": "express"}, headers=SK).json()
    link = _link(client, created["id"])
    httpx.post(f"{link.url}/complete")
    onboarded = http.get(f"/v1/accounts/{created['id']}", headers=SK).json()
    event = http.get("/v1/events", headers=SK).json()["data"][0]

    for account in (created, onboarded):
        assert set(account) == set(examples["account"])
        assert shape_problems(account, examples["account"], "account", examples) == []
    bank = onboarded["external_accounts"]["data"][0]
    assert set(bank) == set(examples["bank_account"])
    assert shape_problems(bank, examples["bank_account"], "bank_account", examples) == []
    link_json = http.post(
        "/v1/account_links",
        data={
            "account": created["id"],
            "refresh_url": "https://x.example/r",
            "return_url": "https://x.example/d",
            "type": "account_onboarding",
        },
        headers=SK,
    ).json()
    assert set(link_json) == set(examples["account_link"])
    assert shape_problems(event, examples["event"], "account.updated", examples) == []
