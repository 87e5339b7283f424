"""Stripe Connect end to end on both databases, against the Stripe sandbox: onboarding through
the API, `account.updated`, destination charges and their refunds, separate charges with one
transfer per organizer, and `ledger verify` over all of it."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.domain import AccountKind
from eventpay.domain.connect import transfer_posting
from eventpay.ports import (
    ChargeKind,
    ConnectCharge,
    ProviderName,
    Role,
    TransferStatus,
)
from eventpay.providers import stripe_client
from eventpay.services import books, webhooks
from eventpay.services.settlement import record_provider_answer
from eventpay.services.transfers import send_due_reversals, send_due_transfers
from support.api import bearer, confirm_at_sandbox, create_order, registration
from support.events import signed_headers
from support.paid_orders import paid_order
from support.stack import WEBHOOK_SECRET

ORG_A, EVENT_A = "org-connect-a", "connect-a-open"
ORG_B, EVENT_B = "org-connect-b", "connect-b-open"
BUYER = "competitor-connect"


def organizer(org: str) -> dict[str, str]:
    return bearer(f"user-{org}", Role.ORGANIZER, organizer_id=org)


def admin() -> dict[str, str]:
    return bearer("admin-connect", Role.ADMIN)


def _stripe(container: Container, sandbox: str) -> stripe.StripeClient:
    secret = container.settings.stripe_secret_key.get_secret_value()
    return stripe_client(secret_key=secret, api_base=sandbox, timeout_s=5)


def _set_state(sandbox: str, account_id: str, **state: Any) -> dict[str, Any]:
    answer = httpx.post(f"{sandbox}/_sandbox/accounts/{account_id}/state", json=state)
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def _deliver_account_events(
    client: TestClient, container: Container, sandbox: str, account_id: str
) -> int:
    """Post the sandbox's `account.updated` events of `account_id`, oldest first, as Stripe
    would, and let the worker apply them; how many were newly stored."""
    events = _stripe(container, sandbox).v1.events.list(
        params={"type": "account.updated", "limit": 100}
    )
    stored = 0
    for event in reversed(events.data):
        body = event.to_dict()
        if body["data"]["object"]["id"] != account_id:
            continue
        raw = json.dumps(body).encode()
        response = client.post(
            "/v1/webhooks/stripe", content=raw, headers=signed_headers(raw, WEBHOOK_SECRET)
        )
        assert response.status_code == 200, response.text
        stored += 1
    while webhooks.process_next(
        uow_factory=container.uow_factory,
        providers=container.providers,
        clock=container.clock,
        retry=container.retry,
    ):
        pass
    return stored


def onboard(client: TestClient, container: Container, sandbox: str, org: str) -> str:
    """Open `org`'s account through the API and finish onboarding at the sandbox; the account
    is enabled by the `account.updated` webhooks. Its id."""
    opened = client.post(f"/v1/organizers/{org}/stripe-account", headers=organizer(org))
    assert opened.status_code in (200, 201), opened.text
    account_id: str = opened.json()["account_id"]
    # The sandbox outlives one test: start from an account that still needs details.
    _set_state(
        sandbox, account_id, charges_enabled=False, payouts_enabled=False, currently_due=["tos"]
    )
    finished = httpx.post(f"{opened.json()['onboarding_url']}/complete")
    assert finished.status_code == 200
    assert finished.json()["charges_enabled"] is True
    _deliver_account_events(client, container, sandbox, account_id)
    with container.uow_factory() as uow:
        stored = uow.connect.get_account(org)
    assert stored is not None
    assert stored.charges_enabled
    assert stored.payouts_enabled
    return account_id


def pay(
    client: TestClient, container: Container, sandbox: str, order_id: str, *, buyer: str = BUYER
) -> dict[str, Any]:
    started = client.post(
        f"/v1/orders/{order_id}/payments", json={"provider": "stripe"}, headers=bearer(buyer)
    )
    assert started.status_code == 201, started.text
    payment: dict[str, Any] = started.json()
    confirm_at_sandbox(sandbox, payment["client_secret"], "pm_card_visa").raise_for_status()
    intent_id = payment["client_secret"].split("_secret_")[0]
    record_provider_answer(
        uow_factory=container.uow_factory,
        payment_id=payment["id"],
        answer=container.providers[ProviderName.STRIPE].retrieve_payment(intent_id),
        actor="test",
        now=container.clock(),
    )
    payment["intent_id"] = intent_id
    return payment


def transfer_postings(container: Container, org: str) -> dict[str, int]:
    """What each transfer cause moved to `org`'s payable."""
    with container.uow_factory() as uow:
        causes = [
            f"payment:{p.id}:transfer"
            for order in _orders_of(container)
            for p in uow.payments.list_for_order(order)
        ]
        return dict(uow.connect.transfer_amounts(causes))


def _orders_of(container: Container) -> list[str]:
    with container.uow_factory() as uow:
        return [c.order_id for c in uow.connect.destination_charges()]


def _audited(container: Container, org: str) -> list[tuple[str, str]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, actor_id FROM payment_audit_log WHERE entity_type ="
                " 'connected_account' AND entity_id = :org ORDER BY created_at"
            ),
            {"org": org},
        )
        return [(str(a), str(b)) for a, b in rows]


def payable(container: Container, org: str) -> int:
    with container.uow_factory() as uow:
        owed = uow.ledger.balances(kind=AccountKind.ORGANIZER_PAYABLE, owner=org)
    return -sum(owed.values())


def test_onboarding_opens_one_account_for_the_organizer_or_an_admin_only(
    client: TestClient, container: Container
) -> None:
    path = f"/v1/organizers/{ORG_A}/stripe-account"
    assert client.get(path, headers=organizer(ORG_A)).json()["error"]["code"] == (
        "connected_account_not_found"
    )
    first = client.post(path, headers=organizer(ORG_A), json={"return_url": "https://x.test/r"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["account_id"].startswith("acct_")
    assert "/sandbox/connect/onboarding/" in body["onboarding_url"]
    assert set(body) >= {"charges_enabled", "payouts_enabled", "requirements_due"}
    again = client.post(path, headers=admin())
    assert again.status_code == 200
    assert again.json()["account_id"] == body["account_id"]
    assert again.json()["onboarding_url"] != body["onboarding_url"]  # a fresh link each time
    for other in (
        client.post(path, headers=organizer(ORG_B)),
        client.get(path, headers=bearer(BUYER)),
    ):
        assert other.status_code == 404
        assert other.json()["error"]["code"] == "organizer_not_found"
    assert client.post("/v1/organizers/nobody/stripe-account", headers=admin()).status_code == 404
    assert _audited(container, ORG_A) == [("connected_account.created", f"user-{ORG_A}")]


def test_account_updated_webhook_enables_charges_and_is_audited(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    account_id = onboard(client, container, stripe_sandbox, ORG_A)
    got = client.get(f"/v1/organizers/{ORG_A}/stripe-account", headers=organizer(ORG_A))
    assert got.status_code == 200
    assert got.json() | {"onboarding_url": None} == {
        "account_id": account_id,
        "onboarding_url": None,
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "requirements_due": [],
    }
    # Stripe takes the account's charges away again: the next event says so.
    _set_state(stripe_sandbox, account_id, charges_enabled=False, currently_due=["id_number"])
    assert _deliver_account_events(client, container, stripe_sandbox, account_id) >= 1
    with container.uow_factory() as uow:
        stored = uow.connect.get_account(ORG_A)
    assert stored is not None
    assert (stored.charges_enabled, stored.requirements_due) == (False, ["id_number"])
    assert ("connected_account.updated", "stripe-webhook") in _audited(container, ORG_A)


def test_a_single_organizer_order_is_a_destination_charge_and_its_refund_reverses_it(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    account_id = onboard(client, container, stripe_sandbox, ORG_A)
    order = create_order(client, BUYER, registration(EVENT_A, f"{EVENT_A}-spl"))
    with container.uow_factory() as uow:
        stored = uow.orders.get(order["id"])
    assert stored is not None
    assert stored.organizer_shares is not None
    gross, fee = stored.organizer_shares[ORG_A]
    payment = pay(client, container, stripe_sandbox, order["id"])

    sdk = _stripe(container, stripe_sandbox)
    intent = sdk.v1.payment_intents.retrieve(payment["intent_id"])
    assert intent.transfer_data is not None
    assert intent.transfer_data.destination == account_id
    assert (intent.application_fee_amount, intent.on_behalf_of) == (fee, account_id)
    assert client.get(f"/v1/orders/{order['id']}", headers=bearer(BUYER)).json()["status"] == "paid"
    # The whole net went to the organizer's account: nothing is owed any more.
    assert transfer_postings(container, ORG_A)[f"payment:{payment['id']}:transfer"] == gross - fee
    assert payable(container, ORG_A) == 0
    assert books.verify(uow_factory=container.uow_factory).problems == []

    refund = client.post(
        f"/v1/orders/{order['id']}/refunds",
        json={"reason": "cannot attend"},
        headers=bearer(BUYER),
    )
    assert refund.status_code == 201, refund.text
    charge = sdk.v1.charges.retrieve(str(intent.latest_charge), params={"expand": ["transfer"]})
    assert charge.amount_refunded > 0
    assert charge.transfer.amount_reversed > 0  # type: ignore[attr-defined]
    with container.uow_factory() as uow:
        refunds = uow.refunds.list_for_order(order["id"])
        reversal = uow.connect.transfer_amounts(
            [f"refund:{r.id}:transfer_reversal" for r in refunds]
        )
    assert refunds
    assert all(r.status.value == "succeeded" for r in refunds)
    assert sum(reversal.values()) < 0
    assert payable(container, ORG_A) == 0  # what is still held stays transferred, no more
    assert books.verify(uow_factory=container.uow_factory).problems == []


@pytest.mark.parametrize("posted", [None, 1_000])
def test_verify_names_a_destination_charge_with_a_missing_or_wrong_transfer_posting(
    container: Container, stripe_sandbox: str, posted: int | None
) -> None:
    order_id = paid_order(container, stripe_sandbox)
    with container.uow_factory() as uow:
        (payment,) = uow.payments.list_for_order(order_id)
        # Planted: the attempt is recorded as a destination charge, but its transfer was not
        # posted, or posted with another amount.
        uow.connect.add_charge(
            ConnectCharge(
                payment_id=payment.id,
                order_id=order_id,
                kind=ChargeKind.DESTINATION,
                currency=payment.currency,
                created_at=container.clock(),
                organizer_id="org-bassline",
                destination="acct_planted",
                application_fee=1,
            )
        )
        cause = f"payment:{payment.id}:transfer"
        if posted is not None:
            wrong = transfer_posting(
                cause=cause,
                kind="connect_destination_transfer",
                organizer_id="org-bassline",
                provider="stripe",
                currency=payment.currency,
                amount=posted,
            )
            assert wrong is not None
            uow.ledger.post(wrong, at=container.clock())
        uow.commit()
        order = uow.orders.get(order_id)
    assert order is not None
    net = order.total - order.platform_fee
    problems = books.verify(uow_factory=container.uow_factory).problems
    assert problems == [
        f"order {order_id}: transfer posting {cause} is missing"
        if posted is None
        else f"order {order_id}: transfers to org-bassline are {posted} usd in the ledger, but "
        f"its destination charges make them {net}"
    ]


def test_an_order_of_two_organizers_is_one_charge_and_one_transfer_each(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    accounts = {org: onboard(client, container, stripe_sandbox, org) for org in (ORG_A, ORG_B)}
    body = {
        "items": [
            {"kind": "registration", "event_id": EVENT_A, "class_ids": [f"{EVENT_A}-spl"]},
            {"kind": "registration", "event_id": EVENT_B, "class_ids": [f"{EVENT_B}-sq"]},
        ]
    }
    order = create_order(client, BUYER, body)
    payment = pay(client, container, stripe_sandbox, order["id"])
    sdk = _stripe(container, stripe_sandbox)
    intent = sdk.v1.payment_intents.retrieve(payment["intent_id"])
    assert intent.transfer_data is None
    assert intent.transfer_group == order["id"]

    with container.uow_factory() as uow:
        queued = uow.connect.transfers_for_payment(payment["id"])
        shares = uow.orders.get(order["id"]).organizer_shares  # type: ignore[union-attr]
    assert shares is not None
    net = {org: gross - fee for org, (gross, fee) in shares.items()}
    assert {(t.organizer_id, t.amount, t.status) for t in queued} == {
        (ORG_A, net[ORG_A], TransferStatus.PENDING),
        (ORG_B, net[ORG_B], TransferStatus.PENDING),
    }
    assert payable(container, ORG_A) == net[ORG_A]  # owed until the transfer leaves

    assert (
        send_due_transfers(
            uow_factory=container.uow_factory, providers=container.providers, clock=container.clock
        )
        == 2
    )
    assert (
        send_due_transfers(  # nothing left due: sent once
            uow_factory=container.uow_factory, providers=container.providers, clock=container.clock
        )
        == 0
    )
    listed = sdk.v1.transfers.list(params={"transfer_group": order["id"], "limit": 10}).data
    assert sorted((t.destination, t.amount) for t in listed) == sorted(
        (accounts[org], net[org]) for org in (ORG_A, ORG_B)
    )
    assert {t.source_transaction for t in listed} == {intent.latest_charge}
    assert (payable(container, ORG_A), payable(container, ORG_B)) == (0, 0)
    with container.uow_factory() as uow:
        sent = uow.connect.transfers_for_payment(payment["id"])
        actions = [e.action for e in uow.audit.list_for(order_id=order["id"])]
    assert {t.status for t in sent} == {TransferStatus.SENT}
    assert actions.count("transfer.queued") == 2
    assert actions.count("transfer.sent") == 2
    assert books.verify(uow_factory=container.uow_factory).problems == []


def test_an_organizer_without_an_enabled_account_is_paid_the_ordinary_way(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = create_order(client, BUYER, registration(EVENT_B, f"{EVENT_B}-spl"))
    payment = pay(client, container, stripe_sandbox, order["id"])
    intent = _stripe(container, stripe_sandbox).v1.payment_intents.retrieve(payment["intent_id"])
    assert intent.transfer_data is None
    assert intent.transfer_group is None
    assert payable(container, ORG_B) > 0
    assert books.verify(uow_factory=container.uow_factory).problems == []


def _two_organizer_order(
    client: TestClient, container: Container, sandbox: str
) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    accounts = {org: onboard(client, container, sandbox, org) for org in (ORG_A, ORG_B)}
    body = {
        "items": [
            {"kind": "registration", "event_id": EVENT_A, "class_ids": [f"{EVENT_A}-spl"]},
            {"kind": "registration", "event_id": EVENT_B, "class_ids": [f"{EVENT_B}-sq"]},
        ]
    }
    order = create_order(client, BUYER, body)
    return accounts, order, pay(client, container, sandbox, order["id"])


def _send(container: Container) -> tuple[int, int]:
    kwargs: Any = {
        "uow_factory": container.uow_factory,
        "providers": container.providers,
        "clock": container.clock,
    }
    return send_due_transfers(**kwargs), send_due_reversals(**kwargs)


def _refund_all(client: TestClient, order_id: str) -> None:
    refund = client.post(
        f"/v1/orders/{order_id}/refunds", json={"reason": "cannot attend"}, headers=bearer(BUYER)
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["status"] == "succeeded"


def test_a_refund_before_the_transfers_left_cancels_them(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    _, order, payment = _two_organizer_order(client, container, stripe_sandbox)
    _refund_all(client, order["id"])
    with container.uow_factory() as uow:
        transfers = uow.connect.transfers_for_payment(payment["id"])
    assert {(t.status, t.amount) for t in transfers} == {(TransferStatus.CANCELED, 0)}
    assert _send(container) == (0, 0)
    listed = _stripe(container, stripe_sandbox).v1.transfers.list(
        params={"transfer_group": order["id"], "limit": 10}
    )
    assert listed.data == []
    assert (payable(container, ORG_A), payable(container, ORG_B)) == (0, 0)
    assert books.verify(uow_factory=container.uow_factory).problems == []


def test_a_refund_after_the_transfers_left_takes_back_each_organizer_share(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    accounts, order, payment = _two_organizer_order(client, container, stripe_sandbox)
    assert _send(container) == (2, 0)
    with container.uow_factory() as uow:
        sent = {t.organizer_id: t.amount for t in uow.connect.transfers_for_payment(payment["id"])}
    # Half the order back: each organizer gives back their part of it.
    refund = client.post(
        f"/v1/orders/{order['id']}/refunds",
        json={"reason": "one class cancelled", "amount": order["total"]["amount"] // 2},
        headers=admin(),
    )
    assert refund.status_code == 201, refund.text
    with container.uow_factory() as uow:
        queued = {
            t.organizer_id: sum(r.amount for r in uow.connect.reversals_for_transfer(t.id))
            for t in uow.connect.transfers_for_payment(payment["id"])
        }
    assert all(0 < queued[org] < sent[org] for org in sent)
    assert _send(container) == (0, 2)
    assert _send(container) == (0, 0)
    listed = _stripe(container, stripe_sandbox).v1.transfers.list(
        params={"transfer_group": order["id"], "limit": 10}
    )
    assert sorted((t.destination, t.amount_reversed) for t in listed.data) == sorted(
        (accounts[org], queued[org]) for org in (ORG_A, ORG_B)
    )
    # What each organizer still holds at Stripe is exactly what the ledger says they earned.
    assert (payable(container, ORG_A), payable(container, ORG_B)) == (0, 0)
    with container.uow_factory() as uow:
        actions = [e.action for e in uow.audit.list_for(order_id=order["id"])]
    assert actions.count("transfer_reversal.queued") == 2
    assert actions.count("transfer_reversal.sent") == 2
    assert books.verify(uow_factory=container.uow_factory).problems == []


def test_an_older_account_event_arriving_late_changes_nothing(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    account_id = onboard(client, container, stripe_sandbox, ORG_A)
    events = _stripe(container, stripe_sandbox).v1.events.list(
        params={"type": "account.updated", "limit": 100}
    )
    ours = [e.to_dict() for e in events.data if e.data.object["id"] == account_id]
    newest = ours[0]
    assert newest["data"]["object"]["charges_enabled"] is True
    # Delivered late: a description of the account from before onboarding finished.
    late = json.loads(json.dumps(newest))
    late["id"] = f"evt_late_{uuid.uuid4().hex[:12]}"
    late["created"] = newest["created"] - 60
    late["data"]["object"]["charges_enabled"] = False
    late["data"]["object"]["requirements"]["currently_due"] = ["tos"]
    raw = json.dumps(late).encode()
    response = client.post(
        "/v1/webhooks/stripe", content=raw, headers=signed_headers(raw, WEBHOOK_SECRET)
    )
    assert response.status_code == 200
    processed = webhooks.process_next(
        uow_factory=container.uow_factory,
        providers=container.providers,
        clock=container.clock,
        retry=container.retry,
    )
    assert processed is not None
    assert processed.event_id == late["id"]
    with container.uow_factory() as uow:
        stored = uow.connect.get_account(ORG_A)
    assert stored is not None
    assert (stored.charges_enabled, stored.requirements_due) == (True, [])


def test_a_transfer_whose_answer_was_lost_waits_its_turn_and_is_sent_once(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    accounts, order, payment = _two_organizer_order(client, container, stripe_sandbox)
    # Stripe fails the next transfer request: its outcome is unknown to us.
    httpx.post(
        f"{stripe_sandbox}/_sandbox/faults",
        json={"path_prefix": "/v1/transfers", "method": "POST", "mode": "http_500", "times": 1},
    ).raise_for_status()
    assert _send(container) == (1, 0)
    with container.uow_factory() as uow:
        rows = {t.organizer_id: t for t in uow.connect.transfers_for_payment(payment["id"])}
    waiting = [t for t in rows.values() if t.status is TransferStatus.PENDING]
    assert len(waiting) == 1
    assert waiting[0].checks == 1
    assert waiting[0].next_check_at > container.clock()
    assert _send(container) == (0, 0)  # not due yet: the janitor selects due rows only

    later = container.clock() + timedelta(hours=2)
    sent = send_due_transfers(
        uow_factory=container.uow_factory, providers=container.providers, clock=lambda: later
    )
    assert sent == 1
    listed = _stripe(container, stripe_sandbox).v1.transfers.list(
        params={"transfer_group": order["id"], "limit": 10}
    )
    assert sorted(t.destination for t in listed.data) == sorted(accounts.values())
    assert books.verify(uow_factory=container.uow_factory).problems == []


def test_a_payout_run_pays_a_connected_organizer_by_transfer(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    """Money owed before the organizer connected (their early sales were ordinary charges)
    is paid at the next payout run as one Connect transfer, settled when Stripe answers."""
    from eventpay.domain.payouts import PayoutStatus
    from eventpay.ports import Principal
    from eventpay.services import payouts
    from support.paid_orders import paid_order

    org, event_id = "org-connect-a", "connect-a-open"
    paid_order(container, stripe_sandbox, event_id=event_id, class_id=f"{event_id}-spl")
    owed = payable(container, org)
    assert owed > 0
    account_id = onboard(client, container, stripe_sandbox, org)
    ops = Principal(user_id="ops", role=Role.ADMIN)
    payouts.release_reserve(
        uow_factory=container.uow_factory,
        caller=ops,
        event_id=event_id,
        reason="t",
        now=container.clock(),
    )
    report = payouts.run(
        uow_factory=container.uow_factory,
        rails=container.payout_rails,
        clock=container.clock,
        actor="t",
        period="p",
        organizer_ids=[org],
    )
    assert [(line.provider, line.amount.amount) for line in report.lines] == [("stripe", owed)]
    (payout,) = payouts.list_payouts(
        uow_factory=container.uow_factory, caller=ops, organizer_id=org
    )
    assert (payout.status, payout.destination) == (PayoutStatus.PAID, account_id)
    assert payout.provider_item_id is not None
    transfer = _stripe(container, stripe_sandbox).v1.transfers.retrieve(payout.provider_item_id)
    assert (transfer.amount, transfer.destination) == (owed, account_id)
    assert payable(container, org) == 0
    assert books.verify(uow_factory=container.uow_factory).clean
    again = payouts.run(
        uow_factory=container.uow_factory,
        rails=container.payout_rails,
        clock=container.clock,
        actor="t",
        period="p2",
        organizer_ids=[org],
    )
    assert [line.outcome for line in again.lines] in ([], ["nothing_available"])


class RefusesOne:
    """Stripe Connect as it is, except that transfers to one account are refused."""

    def __init__(self, connect: Any, refused: str) -> None:
        self.connect, self.refused = connect, refused

    def create_transfer(self, request: Any) -> Any:
        from eventpay.ports import ProviderRejected

        if request.destination == self.refused:
            raise ProviderRejected("account_invalid", "transfers to this account are refused")
        return self.connect.create_transfer(request)


def test_a_refused_transfer_fails_only_its_own_payout(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    from eventpay.domain.payouts import PayoutStatus
    from eventpay.ports import Principal, ProviderName
    from eventpay.ports.connect import connect_of
    from eventpay.providers.stripe_payouts import StripeTransferPayouts
    from eventpay.services import payouts
    from support.paid_orders import paid_order

    ops = Principal(user_id="ops", role=Role.ADMIN)
    owed, accounts = {}, {}
    for org, event_id in (("org-connect-a", "connect-a-open"), ("org-connect-b", "connect-b-open")):
        paid_order(container, stripe_sandbox, event_id=event_id, class_id=f"{event_id}-spl")
        owed[org] = payable(container, org)
        accounts[org] = onboard(client, container, stripe_sandbox, org)
        payouts.release_reserve(
            uow_factory=container.uow_factory,
            caller=ops,
            event_id=event_id,
            reason="t",
            now=container.clock(),
        )
    connect = connect_of(container.providers[ProviderName.STRIPE])
    rail = StripeTransferPayouts(RefusesOne(connect, accounts["org-connect-b"]))
    report = payouts.run(
        uow_factory=container.uow_factory,
        rails={"stripe": rail},
        clock=container.clock,
        actor="t",
        period="p",
        organizer_ids=list(owed),
    )
    assert (report.sent, report.failed, report.unsent) == (2, 0, 0)

    def only(org: str) -> payouts.PayoutRecord:
        (found,) = payouts.list_payouts(
            uow_factory=container.uow_factory, caller=ops, organizer_id=org
        )
        return found

    assert only("org-connect-a").status is PayoutStatus.PAID
    refused = only("org-connect-b")
    assert refused.status is PayoutStatus.FAILED
    assert refused.failure_reason is not None
    assert refused.failure_reason.startswith("account_invalid")
    assert payable(container, "org-connect-a") == 0
    assert payable(container, "org-connect-b") == owed["org-connect-b"]  # available again
    assert books.verify(uow_factory=container.uow_factory).clean


def test_an_admin_hold_keeps_an_organizers_transfers_and_they_count_as_pending(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    from eventpay.ports import Principal
    from eventpay.services import organizer_money, payouts

    ops = Principal(user_id="ops", role=Role.ADMIN)
    _, _, payment = _two_organizer_order(client, container, stripe_sandbox)
    assert payouts.set_hold(
        uow_factory=container.uow_factory,
        caller=ops,
        organizer_id=ORG_B,
        on_hold=True,
        reason="fraud review",
        now=container.clock(),
    )
    assert _send(container) == (1, 0)  # ORG_A's only
    with container.uow_factory() as uow:
        by_org = {t.organizer_id: t for t in uow.connect.transfers_for_payment(payment["id"])}
    assert (by_org[ORG_A].status, by_org[ORG_B].status) == (
        TransferStatus.SENT,
        TransferStatus.PENDING,
    )
    (held,) = organizer_money.balance(
        uow_factory=container.uow_factory, caller=ops, organizer_id=ORG_B, now=container.clock()
    )
    # Still owed, on its way by transfer: never offered to a payout run as available.
    assert (held.pending.amount, held.available.amount) == (by_org[ORG_B].amount, 0)
    payouts.set_hold(
        uow_factory=container.uow_factory,
        caller=ops,
        organizer_id=ORG_B,
        on_hold=False,
        reason=None,
        now=container.clock(),
    )
    assert _send(container) == (1, 0)
    assert payable(container, ORG_B) == 0
    assert books.verify(uow_factory=container.uow_factory).problems == []


def test_onboarding_refuses_return_urls_that_are_not_http(
    client: TestClient, container: Container
) -> None:
    for bad in ("javascript:alert(1)", "/relative/path", "ftp://example.com/x"):
        answer = client.post(
            f"/v1/organizers/{ORG_A}/stripe-account",
            json={"return_url": bad},
            headers=organizer(ORG_A),
        )
        assert answer.status_code == 422, answer.text
    with container.uow_factory() as uow:
        assert uow.connect.get_account(ORG_A) is None  # nothing opened at Stripe for it


def test_a_transfer_asked_for_keeps_its_amount_and_waits_for_a_person_past_the_key_window(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    _, order, payment = _two_organizer_order(client, container, stripe_sandbox)
    httpx.post(  # every transfer request fails: outcomes unknown
        f"{stripe_sandbox}/_sandbox/faults",
        json={"path_prefix": "/v1/transfers", "method": "POST", "mode": "http_500", "times": 2},
    ).raise_for_status()
    assert _send(container) == (0, 0)
    with container.uow_factory() as uow:
        before = {t.id: t.amount for t in uow.connect.transfers_for_payment(payment["id"])}
    _refund_all(client, order["id"])
    with container.uow_factory() as uow:
        after = {t.id: t.amount for t in uow.connect.transfers_for_payment(payment["id"])}
        actions = [e.action for e in uow.audit.list_for(order_id=order["id"])]
    # Asked for once already: the key must send the same amount; the refund is a reversal.
    assert after == before
    assert "transfer.reduced" not in actions

    past_window = container.clock() + timedelta(hours=30)
    sent = send_due_transfers(
        uow_factory=container.uow_factory, providers=container.providers, clock=lambda: past_window
    )
    assert sent == 0
    with container.uow_factory() as uow:
        rows = uow.connect.transfers_for_payment(payment["id"])
        actions = [e.action for e in uow.audit.list_for(order_id=order["id"])]
    assert {t.status for t in rows} == {TransferStatus.PENDING}
    assert actions.count("transfer.needs_review") == 2
