"""Spectator passes and VIP upgrades over HTTP, on SQLite and PostgreSQL, paid through the Stripe
sandbox: set up by organizers, priced by the server only, a day's gate never oversold, refunded
by an admin, and the books clean afterwards."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_data import GATE_PLACES_PER_DAY, PASS_EVENT, VIP_PLACES, VIP_PRICES
from eventpay.sample_ids import OPEN_EVENT, ORGANIZER_ID, UNCLAIMED_ORGANIZER_ID
from eventpay.services import books
from support.api import bearer, registration
from support.checkout import pay_by_card

GATE_OWNER = bearer("o-3", Role.ORGANIZER, organizer_id=UNCLAIMED_ORGANIZER_ID)
SPRING_OWNER = bearer("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
ADMIN = bearer("ops", Role.ADMIN)
PASSES = f"/v1/events/{PASS_EVENT}/passes"
GATE = f"/v1/events/{PASS_EVENT}/gate"
VIP = f"/v1/events/{OPEN_EVENT}/vip"


def _order(client: TestClient, sub: str, *items: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/orders", json={"items": list(items)}, headers=bearer(sub))


def _pass(pass_id: str, quantity: int) -> dict[str, Any]:
    return {"kind": "pass", "event_id": PASS_EVENT, "pass_id": pass_id, "quantity": quantity}


def _upgrade(registration_id: str) -> dict[str, Any]:
    return {"kind": "vip_upgrade", "registration_id": registration_id}


def _pay(client: TestClient, container: Container, sandbox: str, sub: str, order_id: str) -> None:
    pay_by_card(client, container, sandbox, sub, order_id)
    paid = client.get(f"/v1/orders/{order_id}", headers=bearer(sub)).json()
    assert paid["status"] == "paid", paid


def _refund_all(client: TestClient, order_id: str) -> None:
    refund = client.post(f"/v1/orders/{order_id}/refunds", json={"reason": "rain"}, headers=ADMIN)
    assert refund.status_code == 201, refund.text
    after = client.get(f"/v1/orders/{order_id}", headers=ADMIN).json()
    assert after["status"] == "refunded", after


def _error(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]["code"]


def _pass_id(client: TestClient, name: str) -> str:
    (found,) = [p["id"] for p in client.get(PASSES).json()["passes"] if p["name"] == name]
    return str(found)


def test_the_organizer_sets_up_the_gate_and_passes_and_everyone_sees_them(
    client: TestClient, container: Container
) -> None:
    listing = client.get(PASSES)
    assert listing.status_code == 200
    days = [d["date"] for d in listing.json()["days"]]
    assert len(days) == 3
    assert {d["capacity"] for d in listing.json()["days"]} == {GATE_PLACES_PER_DAY}

    gate = client.put(GATE, json={"capacity_per_day": 150}, headers=GATE_OWNER)
    created = client.post(
        PASSES,
        json={"name": "Sunday", "price": {"amount": 1200, "currency": "USD"}, "days": days[2:]},
        headers=GATE_OWNER,
    )

    assert gate.status_code == 200, gate.text
    assert [d["places_left"] for d in gate.json()["days"]] == [150, 150, 150]
    assert created.status_code == 201, created.text
    assert created.json()["price"] == {"amount": 1200, "currency": "usd"}
    assert (created.json()["days"], created.json()["places_left"]) == (days[2:], 150)
    names = [p["name"] for p in client.get(PASSES).json()["passes"]]
    assert names == ["Friday only", "Sunday", "Friday and Saturday", "Full weekend"]
    with container.engine.connect() as conn:
        actions = (
            conn.execute(
                text("SELECT action FROM payment_audit_log WHERE actor_id = 'o-3' ORDER BY id")
            )
            .scalars()
            .all()
        )
    assert actions == ["event.gate_capacity_set", "pass_type.created"]


def test_strangers_get_404_and_bad_set_up_a_422_naming_the_field(client: TestClient) -> None:
    for headers in (SPRING_OWNER, bearer("competitor-1")):
        answer = client.put(GATE, json={"capacity_per_day": 10}, headers=headers)
        assert _error(answer) == (404, "event_not_found")
        answer = client.post(PASSES, json={"name": "x", "price": 1, "days": "all"}, headers=headers)
        assert _error(answer) == (404, "event_not_found")
    for body, field in [
        ({"name": "Someday", "price": 1000, "days": ["2001-01-01"]}, "days"),
        ({"name": "Euro", "price": {"amount": 1000, "currency": "EUR"}, "days": "all"}, "price"),
        ({"name": "Absurd", "price": 10**12, "days": "all"}, "price"),
    ]:
        answer = client.post(PASSES, json=body, headers=GATE_OWNER)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["details"]["field"] == field
    answer = client.put(GATE, json={"capacity_per_day": -1}, headers=GATE_OWNER)
    assert answer.json()["error"]["details"]["field"] == "capacity_per_day"
    assert client.get("/v1/events/no-such-event/passes").status_code == 404


def test_passes_are_priced_by_the_server_never_oversold_paid_and_refunded(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    weekend, friday = _pass_id(client, "Full weekend"), _pass_id(client, "Friday only")
    assert client.put(GATE, json={"capacity_per_day": 3}, headers=GATE_OWNER).status_code == 200
    priced_by_client = _order(client, "fan-0", {**_pass(weekend, 1), "amount": 1})
    assert priced_by_client.status_code == 422

    first = _order(client, "fan-1", _pass(weekend, 2))
    late = _order(client, "fan-2", _pass(friday, 2))

    assert first.status_code == 201, first.text
    (line,) = [ln for ln in first.json()["lines"] if ln["kind"] == "pass"]
    assert line["amount"] == {"amount": 2 * 3500, "currency": "usd"}
    assert "Full weekend x 2 passes" in line["description"]
    assert _error(late) == (409, "sold_out")
    assert late.json()["error"]["details"]["places_left"] == 1
    assert [p["places_left"] for p in client.get(PASSES).json()["passes"]] == [1, 1, 1]

    order_id = first.json()["id"]
    _pay(client, container, stripe_sandbox, "fan-1", order_id)
    _refund_all(client, order_id)

    assert [p["places_left"] for p in client.get(PASSES).json()["passes"]] == [3, 3, 3]
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems


def test_vip_is_set_up_by_the_organizer_and_listed_publicly(client: TestClient) -> None:
    offer = client.get(VIP).json()
    assert (offer["offered"], offer["capacity"], offer["places_left"]) == (
        True,
        VIP_PLACES,
        VIP_PLACES,
    )
    assert {p["class_id"]: p["price"]["amount"] for p in offer["prices"]} == VIP_PRICES

    changed = client.put(
        VIP, json={"capacity": 5, "prices": {"spring-spl": 12000}}, headers=SPRING_OWNER
    )
    unknown = client.put(
        VIP, json={"capacity": 5, "prices": {"winter-spl": 1}}, headers=SPRING_OWNER
    )
    stranger = client.put(VIP, json={"capacity": 5, "prices": {}}, headers=GATE_OWNER)

    assert changed.status_code == 200, changed.text
    assert [(p["code"], p["price"]["amount"]) for p in changed.json()["prices"]] == [("SPL", 12000)]
    assert unknown.json()["error"]["details"]["field"] == "prices.winter-spl"
    assert _error(stranger) == (404, "event_not_found")


def test_a_paid_registration_is_upgraded_once_paying_the_difference(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    entry = _order(client, "racer-1", *registration(OPEN_EVENT, "spring-spl")["items"])
    assert entry.status_code == 201, entry.text
    registration_id = entry.json()["registrations"][0]["id"]
    (charged,) = [
        ln["amount"]["amount"] for ln in entry.json()["lines"] if ln["kind"] == "registration"
    ]
    assert _error(_order(client, "racer-1", _upgrade(registration_id))) == (
        409,
        "registration_not_paid",
    )
    _pay(client, container, stripe_sandbox, "racer-1", entry.json()["id"])
    assert _error(_order(client, "racer-2", _upgrade(registration_id))) == (
        422,
        "registration_not_found",
    )

    upgrade = _order(client, "racer-1", _upgrade(registration_id))

    assert upgrade.status_code == 201, upgrade.text
    (line,) = [ln for ln in upgrade.json()["lines"] if ln["kind"] == "vip_upgrade"]
    assert line["amount"]["amount"] == VIP_PRICES["spring-spl"] - charged
    seen = client.get(f"/v1/registrations/{registration_id}", headers=bearer("racer-1"))
    assert seen.json()["vip"] is False
    _pay(client, container, stripe_sandbox, "racer-1", upgrade.json()["id"])
    seen = client.get(f"/v1/registrations/{registration_id}", headers=bearer("racer-1"))
    assert (seen.status_code, seen.json()["vip"]) == (200, True)
    assert client.get(VIP).json()["places_left"] == VIP_PLACES - 1
    assert _error(_order(client, "racer-1", _upgrade(registration_id))) == (409, "already_upgraded")
    assert (
        client.get(f"/v1/registrations/{registration_id}", headers=bearer("racer-2")).status_code
        == 404
    )

    _refund_all(client, upgrade.json()["id"])
    assert (
        client.get(f"/v1/registrations/{registration_id}", headers=bearer("racer-1")).json()["vip"]
        is False
    )
    _refund_all(client, entry.json()["id"])
    assert _error(_order(client, "racer-1", _upgrade(registration_id))) == (
        409,
        "registration_cancelled",
    )
    assert client.get(VIP).json()["places_left"] == VIP_PLACES
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems


def test_an_event_with_passes_but_no_orders_can_still_be_deleted(client: TestClient) -> None:
    deleted = client.delete(f"/v1/events/{PASS_EVENT}", headers=GATE_OWNER)
    deleted_vip = client.delete(f"/v1/events/{OPEN_EVENT}", headers=SPRING_OWNER)

    assert deleted.status_code == 204, deleted.text
    assert deleted_vip.status_code == 204, deleted_vip.text
    assert _error(client.get(PASSES)) == (404, "event_not_found")
    assert _error(client.get(VIP)) == (404, "event_not_found")
