"""Stripe Connect from the outside: organizers onboard, and their buyers' money reaches them.

`connect-destination-charge`: an organizer's Express account is opened through the API (as an
admin would for them), onboarding is completed at the sandbox's page as a browser would, and
only the `account.updated` webhook the sandbox sends makes the service see charges enabled. A
paid order for that organizer's event is then a destination charge to their account, keeping
the platform fee (as the organizer's statement shows it) as the application fee, and the
organizer is owed nothing more for it. `multi-organizer-cart-transfers`: one order across two
connected organizers is one charge and, once paid, one transfer to each, in one transfer group
(the order id), each of that organizer's net. The ledger verifies clean after each.

Repeatable against the same deployment and sandbox: an account already onboarded by an
earlier run is first set back to "details due" through the sandbox's test control, so the
webhook is what enables it again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventpay.sample_ids import (
    CONNECT_EVENT_A,
    CONNECT_EVENT_B,
    CONNECT_ORGANIZER_A,
    CONNECT_ORGANIZER_B,
)
from eventpay.selftest.checks import Scenario, ScenarioFailed, eventually, expect
from eventpay.selftest.client import SANDBOX_API_KEY, ServiceUnderTest
from eventpay.selftest.payment_scenarios import is_paid

Json = dict[str, Any]


def _admin(sut: ServiceUnderTest) -> dict[str, str]:
    return {"Authorization": f"Bearer {sut.admin}"}


def _account(sut: ServiceUnderTest, organizer_id: str) -> Json:
    path = f"/v1/organizers/{organizer_id}/stripe-account"
    found: Json = expect(sut.api.get(path, headers=_admin(sut)), 200)
    return found


def _wait_charges(sut: ServiceUnderTest, organizer_id: str, enabled: bool) -> Json:
    seen: list[Json] = []

    def problem() -> str | None:
        seen[:] = [_account(sut, organizer_id)]
        if seen[0].get("charges_enabled") is enabled:
            return None
        return f"{organizer_id}'s account shows charges_enabled {seen[0].get('charges_enabled')}"

    eventually(problem)
    return seen[0]


def _open(sut: ServiceUnderTest, organizer_id: str) -> Json:
    response = sut.api.post(f"/v1/organizers/{organizer_id}/stripe-account", headers=_admin(sut))
    if response.status_code not in (200, 201):
        raise ScenarioFailed(f"opening the account answered {response.status_code}")
    opened: Json = response.json()
    if not str(opened.get("account_id", "")).startswith("acct_") or not opened.get(
        "onboarding_url"
    ):
        raise ScenarioFailed(f"the account has no id or no onboarding link: {opened}")
    return opened


def onboard(sut: ServiceUnderTest, organizer_id: str) -> str:
    """Open the organizer's account, set it back to "details due" at the sandbox, finish
    onboarding there; the service must learn it from `account.updated`. The account id."""
    opened = _open(sut, organizer_id)
    account_id = str(opened["account_id"])
    sandbox = sut.sandbox().client
    expect(
        sandbox.post(
            f"/_sandbox/accounts/{account_id}/state",
            json={"charges_enabled": False, "payouts_enabled": False, "currently_due": ["tos"]},
        ),
        200,
    )
    _wait_charges(sut, organizer_id, False)
    finished = expect(sandbox.post(f"{opened['onboarding_url']}/complete"), 200)
    if finished.get("charges_enabled") is not True:
        raise ScenarioFailed(f"the sandbox did not enable {account_id}: {finished}")
    shown = _wait_charges(sut, organizer_id, True)
    if shown.get("payouts_enabled") is not True or shown.get("requirements_due"):
        raise ScenarioFailed(f"after onboarding the service shows {shown}")
    return account_id


def _connected(sut: ServiceUnderTest, organizer_id: str) -> str:
    """The organizer's account id, onboarded now unless it can already take charges."""
    opened = _open(sut, organizer_id)
    if opened.get("charges_enabled") is True:
        return str(opened["account_id"])
    return onboard(sut, organizer_id)


def _order(sut: ServiceUnderTest, items: list[tuple[str, str]]) -> Json:
    body = {
        "items": [
            {"kind": "registration", "event_id": event, "class_ids": [cls]} for event, cls in items
        ]
    }
    order: Json = expect(sut.post_order(body), 201)
    return order


def _statement(sut: ServiceUnderTest, organizer_id: str) -> list[Json]:
    now = datetime.now(UTC)
    params = {
        "from": (now - timedelta(hours=2)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    found = expect(
        sut.api.get(f"/v1/organizers/{organizer_id}/statement", params=params, headers=_admin(sut)),
        200,
    )
    return [e for section in found.get("currencies", []) for e in section.get("entries", [])]


def _earned(sut: ServiceUnderTest, organizer_id: str, order_id: str) -> Json:
    """The organizer's statement entry for the order's payment: their net and the fee."""
    for entry in _statement(sut, organizer_id):
        if entry.get("order_id") == order_id and entry.get("kind") == "payment_succeeded":
            return entry
    raise ScenarioFailed(f"{organizer_id}'s statement has no payment of order {order_id}")


def _balance(sut: ServiceUnderTest, organizer_id: str) -> int:
    found = expect(sut.organizer_balance(organizer_id), 200)
    return sum(int(b["available"]["amount"]) for b in found.get("balances", []))


def _verify_clean(sut: ServiceUnderTest) -> Json:
    report: Json = expect(sut.ledger_verify(), 200)
    if not report.get("clean"):
        raise ScenarioFailed(f"ledger not clean: {report.get('problems')}")
    return report


def destination_charge(sut: ServiceUnderTest) -> str:
    account_id = onboard(sut, CONNECT_ORGANIZER_A)
    owed_before = _balance(sut, CONNECT_ORGANIZER_A)
    order = _order(sut, [(CONNECT_EVENT_A, f"{CONNECT_EVENT_A}-spl")])
    payment = sut.stripe_payment(order["id"])
    intent = sut.sandbox().payment_intent(payment.intent_id)
    destination = (intent.get("transfer_data") or {}).get("destination")
    if destination != account_id or intent.get("on_behalf_of") != account_id:
        raise ScenarioFailed(
            f"the PaymentIntent goes to {destination} on behalf of {intent.get('on_behalf_of')}"
            f", not to {account_id}"
        )
    expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    sut.wait_for_order(order["id"], is_paid, "the order paid")
    fee = int(_earned(sut, CONNECT_ORGANIZER_A, order["id"])["platform_fee"]["amount"])
    if intent.get("application_fee_amount") != fee or fee <= 0:
        raise ScenarioFailed(
            f"application fee {intent.get('application_fee_amount')}, platform fee {fee}"
        )
    owed_after = _balance(sut, CONNECT_ORGANIZER_A)
    if owed_after != owed_before:
        raise ScenarioFailed(
            f"the organizer is owed {owed_after - owed_before} more: their net was not "
            "transferred with the charge"
        )
    report = _verify_clean(sut)
    return (
        f"{account_id} enabled by account.updated; order of {intent.get('amount')} "
        f"{intent.get('currency')} charged to it keeping fee {fee}; "
        f"ledger clean over {report.get('orders')} orders"
    )


def _transfers(sut: ServiceUnderTest, group: str) -> list[Json]:
    sandbox = sut.sandbox()
    response = sandbox.client.get(
        "/v1/transfers",
        params={"transfer_group": group, "limit": 10},
        headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"},
    )
    listed: list[Json] = expect(response, 200).get("data", [])
    return listed


def multi_organizer_transfers(sut: ServiceUnderTest) -> str:
    accounts = {org: _connected(sut, org) for org in (CONNECT_ORGANIZER_A, CONNECT_ORGANIZER_B)}
    order = _order(
        sut,
        [(CONNECT_EVENT_A, f"{CONNECT_EVENT_A}-spl"), (CONNECT_EVENT_B, f"{CONNECT_EVENT_B}-sq")],
    )
    payment = sut.stripe_payment(order["id"])
    intent = sut.sandbox().payment_intent(payment.intent_id)
    if intent.get("transfer_data") is not None or intent.get("transfer_group") != order["id"]:
        raise ScenarioFailed(
            f"not a separate charge in group {order['id']}: transfer_data "
            f"{intent.get('transfer_data')}, transfer_group {intent.get('transfer_group')}"
        )
    expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    sut.wait_for_order(order["id"], is_paid, "the order paid")
    nets = {
        accounts[org]: int(_earned(sut, org, order["id"])["payable"]["amount"]) for org in accounts
    }
    seen: list[list[Json]] = []

    def problem() -> str | None:
        seen[:] = [_transfers(sut, order["id"])]
        got = {str(t.get("destination")): int(t.get("amount", 0)) for t in seen[0]}
        return None if got == nets and len(seen[0]) == 2 else f"transfers {got}, wanted {nets}"

    eventually(problem)
    charge = intent.get("latest_charge")
    sources = {t.get("source_transaction") for t in seen[0]}
    if charge is not None and sources != {charge}:
        raise ScenarioFailed(f"transfers come from {sources}, not the order's charge {charge}")
    report = _verify_clean(sut)
    shown = ", ".join(f"{amount} to {acct}" for acct, amount in sorted(nets.items()))
    return (
        f"one charge, transfers {shown} in group {order['id']}; "
        f"ledger clean over {report.get('orders')} orders"
    )


SCENARIOS = (
    Scenario("connect-destination-charge", destination_charge),
    Scenario("multi-organizer-cart-transfers", multi_organizer_transfers),
)
