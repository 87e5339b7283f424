"""Team competitions and series packages over HTTP, on SQLite and PostgreSQL, paid through the
Stripe sandbox: set up by organizers, priced by the server only, team slots never oversold,
refunded by an admin, and the books clean afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_ids import OPEN_EVENT, ORGANIZER_ID, PAYOUT_EVENT, PAYOUT_ORGANIZER_ID
from eventpay.services import books
from support.api import bearer
from support.checkout import pay_by_card

OWNER = bearer("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = bearer("o-2", Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
ADMIN = bearer("ops", Role.ADMIN)
TEAMS = f"/v1/events/{OPEN_EVENT}/teams"
TEAM_CLASS = "spring-sq"  # the sample event has no team class: its SQ class stands in
SETUP = {
    "class_id": TEAM_CLASS,
    "fee_mode": "team",
    "fee": {"amount": 15000, "currency": "USD"},
    "min_members": 2,
    "max_members": 4,
    "capacity": 2,
}


def _team(name: str, *members: str) -> dict[str, Any]:
    return {
        "items": [{"kind": "team", "event_id": OPEN_EVENT, "name": name, "members": list(members)}]
    }


def _order(client: TestClient, sub: str, body: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/orders", json=body, headers=bearer(sub))


def _pay(client: TestClient, container: Container, sandbox: str, sub: str, order_id: str) -> None:
    pay_by_card(client, container, sandbox, sub, order_id)
    paid = client.get(f"/v1/orders/{order_id}", headers=bearer(sub)).json()
    assert paid["status"] == "paid", paid


def _refund_all(client: TestClient, order_id: str) -> dict[str, Any]:
    refund = client.post(
        f"/v1/orders/{order_id}/refunds", json={"reason": "withdrawn"}, headers=ADMIN
    )
    assert refund.status_code == 201, refund.text
    after: dict[str, Any] = client.get(f"/v1/orders/{order_id}", headers=ADMIN).json()
    assert after["status"] == "refunded"
    return after


def test_the_organizer_sets_up_teams_and_buyers_see_the_slots(client: TestClient) -> None:
    assert client.get(TEAMS).status_code == 404
    put = client.put(TEAMS, json=SETUP, headers=OWNER)
    assert put.status_code == 200, put.text
    public = client.get(TEAMS)
    assert public.status_code == 200
    body = public.json()
    assert (body["fee"], body["fee_mode"], body["capacity"], body["slots_left"]) == (
        {"amount": 15000, "currency": "usd"},
        "team",
        2,
        2,
    )
    assert body["registration_status"] == "open"
    for headers in (RIVAL, bearer("competitor-1")):
        answer = client.put(TEAMS, json=SETUP, headers=headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "event_not_found")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"class_id": "summer-spl"}, "class_id"),
        ({"fee_mode": "per_car"}, "fee_mode"),
        ({"min_members": 5}, "max_members"),
        ({"fee": {"amount": 100, "currency": "eur"}}, "fee"),
        ({"capacity": -1}, "capacity"),
    ],
)
def test_bad_terms_get_422_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    answer = client.put(TEAMS, json={**SETUP, **change}, headers=OWNER)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["field"] == field


def test_a_client_sent_amount_is_refused(client: TestClient) -> None:
    assert client.put(TEAMS, json=SETUP, headers=OWNER).status_code == 200
    body = _team("Bass Heads", "mate-1")
    body["items"][0]["amount"] = 100
    answer = _order(client, "captain-x", body)
    assert answer.status_code == 422


def test_a_team_is_paid_refunded_and_the_books_are_clean(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    assert client.put(TEAMS, json=SETUP, headers=OWNER).status_code == 200
    placed = _order(client, "captain-1", _team("Bass Heads", "mate-1", "mate-2"))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    (line,) = [ln for ln in order["lines"] if ln["kind"] == "team"]
    assert (line["amount"]["amount"], line["event_id"], line["class_id"]) == (
        15000,
        OPEN_EVENT,
        TEAM_CLASS,
    )
    assert "Bass Heads" in line["description"]
    assert [r["competitor_id"] for r in order["registrations"]] == [
        "captain-1",
        "mate-1",
        "mate-2",
    ]
    taken = _order(client, "captain-2", _team("BASS heads", "mate-3"))
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "team_name_taken")

    _pay(client, container, stripe_sandbox, "captain-1", order["id"])
    (team,) = client.get(
        "/v1/teams", params={"order_id": order["id"]}, headers=bearer("captain-1")
    ).json()
    assert (team["name"], team["status"], team["captain_id"]) == (
        "Bass Heads",
        "confirmed",
        "captain-1",
    )
    assert [(m["competitor_id"], m["captain"]) for m in team["members"]] == [
        ("captain-1", True),
        ("mate-1", False),
        ("mate-2", False),
    ]
    one = client.get(f"/v1/teams/{team['id']}", headers=bearer("captain-1"))
    assert one.json() == team
    stranger = client.get(f"/v1/teams/{team['id']}", headers=bearer("mate-1"))
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "team_not_found")
    assert client.get(TEAMS).json()["slots_left"] == 1

    after = _refund_all(client, order["id"])
    assert {r["status"] for r in after["registrations"]} == {"cancelled"}
    cancelled = client.get(f"/v1/teams/{team['id']}", headers=bearer("captain-1")).json()
    assert cancelled["status"] == "cancelled"
    assert client.get(TEAMS).json()["slots_left"] == 2
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems


def test_team_slots_are_never_oversold(client: TestClient) -> None:
    assert client.put(TEAMS, json={**SETUP, "capacity": 1}, headers=OWNER).status_code == 200
    first = _order(client, "captain-1", _team("First", "a-1"))
    assert first.status_code == 201, first.text
    second = _order(client, "captain-2", _team("Second", "b-1"))
    assert (second.status_code, second.json()["error"]["code"]) == (409, "sold_out")
    assert client.get(TEAMS).json()["slots_left"] == 0
    shrink = client.put(TEAMS, json={**SETUP, "capacity": 0}, headers=OWNER)
    assert (shrink.status_code, shrink.json()["error"]["code"]) == (409, "capacity_below_taken")


def test_a_member_already_registered_is_refused(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    assert client.put(TEAMS, json=SETUP, headers=OWNER).status_code == 200
    entry = _order(
        client,
        "solo-1",
        {"items": [{"kind": "registration", "event_id": OPEN_EVENT, "class_ids": [TEAM_CLASS]}]},
    ).json()
    _pay(client, container, stripe_sandbox, "solo-1", entry["id"])
    refused = _order(client, "captain-1", _team("Late", "solo-1"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "already_registered")
    twice = _order(client, "captain-1", _team("Twins", "m-1", "m-1"))
    assert (twice.status_code, twice.json()["error"]["code"]) == (422, "duplicate_member")


# ---------------------------------------------------------------------------- series


def _series(client: TestClient, headers: dict[str, str] = ADMIN, **body: Any) -> httpx.Response:
    values = {"name": "Desert Double", "event_ids": [OPEN_EVENT, PAYOUT_EVENT], "prices": {}}
    values["prices"] = {"SPL": 8000}
    values.update(body)
    return client.post("/v1/series", json=values, headers=headers)


def test_series_are_created_by_their_organizer_and_listed_publicly(client: TestClient) -> None:
    mine = _series(client, OWNER, event_ids=[OPEN_EVENT, "summer-bass-bash"])
    assert mine.status_code == 201, mine.text
    foreign = _series(client, OWNER)
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "event_not_found")
    assert foreign.json()["error"]["details"]["event_id"] == PAYOUT_EVENT
    bad = _series(client, ADMIN, event_ids=[OPEN_EVENT])
    assert (bad.status_code, bad.json()["error"]["details"]["field"]) == (422, "event_ids")
    listed = client.get("/v1/series").json()
    assert mine.json()["id"] in [s["id"] for s in listed]
    one = client.get(f"/v1/series/{mine.json()['id']}").json()
    assert one["prices"] == {"SPL": {"amount": 8000, "currency": "usd"}}
    assert [e["id"] for e in one["events"]] == [OPEN_EVENT, "summer-bass-bash"]
    assert client.get("/v1/series/nope").status_code == 404


def test_a_series_package_is_split_paid_refunded_and_the_books_are_clean(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    created = _series(client)
    assert created.status_code == 201, created.text
    item = {"kind": "series", "series_id": created.json()["id"], "class_codes": ["SPL"]}
    priced = _order(client, "fan-1", {"items": [{**item, "price": 1}]})
    assert priced.status_code == 422
    placed = _order(client, "fan-1", {"items": [item]})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    lines = [ln for ln in order["lines"] if ln["kind"] == "series"]
    # A non-member: Spring's SPL early bird 40.00, Sundown's 60.00 -> 80.00 split 4:6.
    assert [(ln["event_id"], ln["amount"]["amount"]) for ln in lines] == [
        (OPEN_EVENT, 3200),
        (PAYOUT_EVENT, 4800),
    ]
    assert [r["event_id"] for r in order["registrations"]] == [OPEN_EVENT, PAYOUT_EVENT]
    _pay(client, container, stripe_sandbox, "fan-1", order["id"])
    again = _order(client, "fan-1", {"items": [item]})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_registered")
    after = _refund_all(client, order["id"])
    assert {r["status"] for r in after["registrations"]} == {"cancelled"}
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems
