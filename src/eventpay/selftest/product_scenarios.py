"""Scenarios of what else an event sells: teams, series packages, VIP upgrades, gate passes.

Each sets up what it sells on fresh events (as the platform's admin), so it runs again and
again against one demo, and buys as fresh competitors. Every amount is the server's: the
scenario only checks it against the published set-up.

- `team-registration`: a captain registers a team of three at a per-member fee and pays; every
  member's registration is confirmed; one of them entering the same class again is told
  409 `already_registered`.
- `series-package`: a package over two events at one price: one registration per event, the
  lines add up to the package price exactly, and it is paid in one payment.
- `vip-upgrade`: a paid entry is upgraded paying only the difference to the VIP price; the
  registration then shows `vip`; a second upgrade is refused with 409 `already_upgraded`.
- `gate-and-multi-day-pass`: spectators buy a 2-day pass and a single-day pass of a 3-day event
  with 3 places a day: the days' places left follow, and the third 2-day pass is `sold_out`.
- `merch-with-variants`: an entry and two shirts of one variant (its whole stock), shipped, in
  one payment; flat-rate shipping once; the variant is `sold_out` for the next buyer; the paid
  shirts are on the organizer's fulfilment list.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventpay.selftest.capacity_scenarios import SPL, fresh_event
from eventpay.selftest.checks import Scenario, ScenarioFailed, expect
from eventpay.selftest.client import Order, ServiceUnderTest, describe
from eventpay.selftest.payment_scenarios import is_paid

SQ = {"id": "sq", "code": "SQ", "name": "SQ", "member_price": 4000, "non_member_price": 5500}


def _buy(sut: ServiceUnderTest, items: list[dict[str, Any]]) -> Order:
    order: Order = expect(sut.post_order({"items": items}), 201)
    return order


def _settled(order: Order) -> bool:
    """Paid, and every registration it holds (an upgrade or passes hold none) confirmed."""
    registrations = order.get("registrations", [])
    return order.get("status") == "paid" and (not registrations or is_paid(order))


def _pay(sut: ServiceUnderTest, order: Order) -> Order:
    payment = sut.stripe_payment(order["id"])
    intent = expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    if intent.get("status") != "succeeded":
        raise ScenarioFailed(f"the card payment is {intent.get('status')}")
    return sut.wait_for_order(order["id"], _settled, "the card pays the order")


def _competitor_token(sut: ServiceUnderTest) -> tuple[str, str]:
    """A fresh competitor's (subject, token), without making them the current buyer."""
    subject = f"competitor-st-{uuid.uuid4().hex[:10]}"
    return subject, sut._credentials.token(subject, "competitor")


def team_registration(sut: ServiceUnderTest) -> str:
    event = fresh_event(sut, classes=[{**SPL, "id": "team", "code": "TEAM", "name": "Team"}])
    team_class = event["classes"][0]["id"]
    setup = {
        "class_id": team_class,
        "fee_mode": "per_member",
        "fee": 3000,
        "min_members": 2,
        "max_members": 4,
        "capacity": 5,
    }
    expect(sut.as_admin("PUT", f"/v1/events/{event['id']}/teams", setup), 200)
    members = [_competitor_token(sut) for _ in range(2)]
    sut.new_buyer()
    item = {
        "kind": "team",
        "event_id": event["id"],
        "name": f"Bass Heads {uuid.uuid4().hex[:6]}",
        "members": [subject for subject, _ in members],
    }
    order = _buy(sut, [item])
    if order["total"]["amount"] != 3 * 3000 or len(order["registrations"]) != 3:
        raise ScenarioFailed(f"a team of 3 at 30.00 each was priced {describe(order)}")
    paid = _pay(sut, order)
    statuses = [r.get("status") for r in paid.get("registrations", [])]
    if statuses != ["confirmed"] * 3:
        raise ScenarioFailed(f"the team's registrations are {statuses}, not all confirmed")
    _, token = members[0]
    again = sut.post_order(
        {"items": [{"kind": "registration", "event_id": event["id"], "class_ids": [team_class]}]},
        token=token,
    )
    if again.status_code != 409 or again.json()["error"]["code"] != "already_registered":
        raise ScenarioFailed(
            f"a team member entering the class again got {again.status_code}: {again.text}"
        )
    return "a captain paid for a team of 3 (3 x 30.00); each member is registered once"


def series_package(sut: ServiceUnderTest) -> str:
    first = fresh_event(sut, classes=[SPL])
    second = fresh_event(sut, classes=[SPL])
    body = {
        "name": "Self-test series",
        "event_ids": [first["id"], second["id"]],
        "prices": {"SPL": 9999},
    }
    series = expect(sut.as_admin("POST", "/v1/series", body), 201)
    order = _buy(sut, [{"kind": "series", "series_id": series["id"], "class_codes": ["SPL"]}])
    lines = [ln for ln in order["lines"] if ln["kind"] == "series"]
    events = sorted(str(ln.get("event_id")) for ln in lines)
    if events != sorted([first["id"], second["id"]]):
        raise ScenarioFailed(f"the package's lines are for events {events}")
    if sum(ln["amount"]["amount"] for ln in lines) != 9999:
        raise ScenarioFailed(f"the package's lines do not add up to 99.99: {describe(order)}")
    paid = _pay(sut, order)
    if sorted(str(r.get("event_id")) for r in paid["registrations"]) != events:
        raise ScenarioFailed(f"not one registration per event: {describe(paid)}")
    split = "/".join(str(ln["amount"]["amount"]) for ln in lines)
    return f"a 2-event package at 99.99 split {split} to the cent, one registration per event"


def vip_upgrade(sut: ServiceUnderTest) -> str:
    event = fresh_event(sut, classes=[SPL])
    class_id = event["classes"][0]["id"]
    vip = {"capacity": 5, "prices": {class_id: 9500}}
    expect(sut.as_admin("PUT", f"/v1/events/{event['id']}/vip", vip), 200)
    entry = _pay(
        sut,
        _buy(sut, [{"kind": "registration", "event_id": event["id"], "class_ids": [class_id]}]),
    )
    (registration,) = entry["registrations"]
    paid_for = entry["total"]["amount"]
    upgrade = _buy(sut, [{"kind": "vip_upgrade", "registration_id": registration["id"]}])
    (line,) = [ln for ln in upgrade["lines"] if ln["kind"] == "vip_upgrade"]
    if line["amount"]["amount"] != 9500 - paid_for:
        raise ScenarioFailed(f"the upgrade costs {line['amount']}, not 95.00 less {paid_for}")
    _pay(sut, upgrade)
    shown = expect(
        sut.api.get(
            f"/v1/registrations/{registration['id']}",
            headers={"Authorization": f"Bearer {sut.buyer}"},
        ),
        200,
    )
    if shown.get("vip") is not True:
        raise ScenarioFailed(f"the upgraded registration shows vip={shown.get('vip')}")
    again = sut.post_order(
        {"items": [{"kind": "vip_upgrade", "registration_id": registration["id"]}]}
    )
    if again.status_code != 409 or again.json()["error"]["code"] != "already_upgraded":
        raise ScenarioFailed(f"a second upgrade got {again.status_code}: {again.text}")
    return f"a paid entry upgraded to VIP for the difference ({line['amount']['amount']})"


def gate_and_multi_day_pass(sut: ServiceUnderTest) -> str:
    event = fresh_event(sut, classes=[SPL], days=3)
    gate = f"/v1/events/{event['id']}"
    days = expect(sut.as_admin("PUT", f"{gate}/gate", {"capacity_per_day": 3}), 200)["days"]
    dates = [d["date"] for d in days]
    if len(dates) != 3:
        raise ScenarioFailed(f"a 3-day event has gate days {dates}")
    two = expect(
        sut.as_admin(
            "POST", f"{gate}/passes", {"name": "Weekend", "price": 2500, "days": dates[1:]}
        ),
        201,
    )
    one = expect(
        sut.as_admin(
            "POST", f"{gate}/passes", {"name": "Friday", "price": 1500, "days": dates[:1]}
        ),
        201,
    )
    order = _buy(
        sut,
        [
            {"kind": "pass", "event_id": event["id"], "pass_id": two["id"], "quantity": 2},
            {"kind": "pass", "event_id": event["id"], "pass_id": one["id"], "quantity": 1},
        ],
    )
    if order["total"]["amount"] != 2 * 2500 + 1500:
        raise ScenarioFailed(f"2 weekend passes and a Friday pass were priced {describe(order)}")
    _pay(sut, order)
    listed = expect(sut.api.get(f"{gate}/passes"), 200)
    left = [d["places_left"] for d in listed["days"]]
    if left != [2, 1, 1]:
        raise ScenarioFailed(f"places left per day are {left}, expected [2, 1, 1]")
    sut.new_buyer()
    late = sut.post_order(
        {"items": [{"kind": "pass", "event_id": event["id"], "pass_id": two["id"], "quantity": 2}]}
    )
    if late.status_code != 409 or late.json()["error"]["code"] != "sold_out":
        raise ScenarioFailed(f"2 more weekend passes for 1 place a day got {late.status_code}")
    return "2 weekend passes and a Friday pass took places per day; the gate said sold_out after"


ADDRESS = {
    "name": "Dana Woofer",
    "line1": "12 Subwoofer Lane",
    "city": "Austin",
    "region": "TX",
    "postal_code": "78701",
    "country": "US",
}


def merch_with_variants(sut: ServiceUnderTest) -> str:
    event = fresh_event(sut, classes=[SPL])
    product = {
        "name": "Event T-shirt",
        "variants": [
            {"sku": "TEE-S", "size": "S", "colour": "black", "price": 2500, "stock": 2},
            {"sku": "TEE-M", "size": "M", "colour": "black", "price": 2500, "stock": 5},
        ],
        "shipping": {"flat_rate": 800},
        "pickup": True,
    }
    created = expect(sut.as_admin("POST", f"/v1/events/{event['id']}/products", product), 201)
    small = next(v for v in created["variants"] if v["sku"] == "TEE-S")
    shirts = {
        "kind": "merchandise",
        "product_id": created["id"],
        "variant_id": small["id"],
        "quantity": 2,
        "delivery": {"method": "ship", "address": ADDRESS},
    }
    entry = {
        "kind": "registration",
        "event_id": event["id"],
        "class_ids": [event["classes"][0]["id"]],
    }
    order = _buy(sut, [entry, shirts])
    kinds = sorted(ln["kind"] for ln in order["lines"])
    if kinds != ["merchandise", "registration", "shipping"]:
        raise ScenarioFailed(f"an entry and shipped shirts make lines {kinds}")
    merch = sum(ln["amount"]["amount"] for ln in order["lines"] if ln["kind"] != "registration")
    if merch != 2 * 2500 + 800:
        raise ScenarioFailed(f"2 shirts at 25.00 shipped flat 8.00 cost {merch}: {describe(order)}")
    _pay(sut, order)
    listed = expect(sut.api.get(f"/v1/events/{event['id']}/products"), 200)
    left = {v["sku"]: v["stock_left"] for p in listed["products"] for v in p["variants"]}
    if left != {"TEE-S": 0, "TEE-M": 5}:
        raise ScenarioFailed(f"stock left after 2 small shirts: {left}")
    sut.new_buyer()
    late = sut.post_order({"items": [{**shirts, "quantity": 1}]})
    if late.status_code != 409 or late.json()["error"]["code"] != "sold_out":
        raise ScenarioFailed(f"a third small shirt of 2 got {late.status_code}: {late.text}")
    fulfilment = expect(sut.as_admin("GET", f"/v1/events/{event['id']}/fulfilment"), 200)
    if order["id"] not in str(fulfilment):
        raise ScenarioFailed("the paid shirts are not on the organizer's fulfilment list")
    return "an entry and 2 shirts (one variant's whole stock) shipped in one payment; then sold_out"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("team-registration", team_registration),
    Scenario("series-package", series_package),
    Scenario("vip-upgrade", vip_upgrade),
    Scenario("gate-and-multi-day-pass", gate_and_multi_day_pass),
    Scenario("merch-with-variants", merch_with_variants),
)
