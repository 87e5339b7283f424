"""The payout routes over HTTP: who may read and control what, and what they answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_ids import ORGANIZER_ID, PAYOUT_EVENT, PAYOUT_ORGANIZER_ID
from support.api import bearer
from support.paid_orders import paid_order

ADMIN = bearer("ops", Role.ADMIN)
OWNER = bearer("o-1", Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
RIVAL = bearer("o-2", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
BUYER = bearer("competitor-1")


def test_an_admin_releases_the_reserve_runs_payouts_and_the_organizer_reads_them(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    paid_order(container, stripe_sandbox, event_id=PAYOUT_EVENT, class_id=f"{PAYOUT_EVENT}-spl")
    balance = f"/v1/organizers/{PAYOUT_ORGANIZER_ID}/balance"
    (before,) = client.get(balance, headers=OWNER).json()["balances"]
    assert before["available"]["amount"] == 0
    net = before["held"]["amount"]
    assert net > 0

    release = f"/v1/events/{PAYOUT_EVENT}/reserve-release"
    for refused in (OWNER, BUYER):
        answer = client.post(release, json={"reason": "trusted"}, headers=refused)
        assert answer.status_code == 404
    assert client.post(release, json={}, headers=ADMIN).status_code == 422
    first = client.post(release, json={"reason": "trusted"}, headers=ADMIN)
    second = client.post(release, json={"reason": "trusted"}, headers=ADMIN)
    assert (first.json()["released"], second.json()["released"]) == (True, False)

    runs = "/v1/payouts/runs"
    assert client.post(runs, json={}, headers=OWNER).status_code == 404
    bad = client.post(runs, json={"period": "no spaces"}, headers=ADMIN)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_period")
    dry = client.post(runs, json={"dry_run": True, "period": "w1"}, headers=ADMIN)
    assert dry.status_code == 201
    assert [(line["organizer_id"], line["outcome"]) for line in dry.json()["lines"]] == [
        (PAYOUT_ORGANIZER_ID, "pay")
    ]
    done = client.post(
        runs, json={"period": "w1", "organizer_ids": [PAYOUT_ORGANIZER_ID]}, headers=ADMIN
    )
    assert done.status_code == 201
    (line,) = done.json()["lines"]
    assert (line["outcome"], line["available"]["amount"]) == ("created", net)

    listing = client.get(f"/v1/organizers/{PAYOUT_ORGANIZER_ID}/payouts", headers=OWNER)
    assert listing.status_code == 200
    (payout,) = listing.json()["payouts"]
    assert payout["id"] == line["payout_id"]
    assert payout["status"] == "sent"
    assert payout["amount"] == {"amount": net, "currency": "usd"}
    (after,) = client.get(balance, headers=OWNER).json()["balances"]
    assert (after["available"]["amount"], after["pending"]["amount"]) == (0, net)


def test_another_organizers_payouts_and_holds_answer_404(client: TestClient) -> None:
    url = f"/v1/organizers/{PAYOUT_ORGANIZER_ID}/payouts"
    for refused in (RIVAL, BUYER):
        answer = client.get(url, headers=refused)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "organizer_not_found")
    hold = f"/v1/organizers/{PAYOUT_ORGANIZER_ID}/payout-hold"
    assert client.put(hold, json={"reason": "x"}, headers=OWNER).status_code == 404
    assert client.put(hold, json={"reason": "x", "extra": 1}, headers=ADMIN).status_code == 422
    held = client.put(hold, json={"reason": "fraud review"}, headers=ADMIN)
    assert held.json() == {"organizer_id": PAYOUT_ORGANIZER_ID, "on_hold": True, "changed": True}
    again = client.put(hold, json={"reason": "fraud review"}, headers=ADMIN)
    assert again.json()["changed"] is False
    statement = client.get(
        f"/v1/organizers/{PAYOUT_ORGANIZER_ID}/statement",
        params={"from": "2026-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"},
        headers=OWNER,
    )
    assert statement.json()["held_now"]["admin_hold"] == "fraud review"
    released = client.delete(hold, headers=ADMIN)
    assert released.json() == {
        "organizer_id": PAYOUT_ORGANIZER_ID,
        "on_hold": False,
        "changed": True,
    }
    unknown = client.put("/v1/organizers/nobody/payout-hold", json={"reason": "x"}, headers=ADMIN)
    assert unknown.status_code == 404
