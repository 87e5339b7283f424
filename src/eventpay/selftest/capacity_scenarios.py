"""Scenarios of places and promo codes: no oversell, the last use of a code, a late payment.

Each scenario sets up its own event (`POST /v1/events` as the platform's admin, for the sample
organizer) so it runs again and again against the same demo: a fresh event's classes have
exactly the capacity the scenario gives them, whatever earlier runs sold. Buyers are fresh
competitors (their own tokens), as real buyers are.

- `capacity-no-oversell`: 200 buyers order one of 50 places at once. Exactly 50 orders are
  accepted and every other buyer is told 409 `sold_out` when ordering; the 50 then pay by card
  and the event shows no place left.
- `promo-code-last-use-race`: two buyers race for a code's last use: one order carries the
  discount, the other is told 409 `promo_code_used_up`; once the winner's order expires
  unpaid (the sandbox's clock control), the use is back and a third buyer gets it.
- `reservation-expired-payment-refunded`: a buyer starts paying for the last place, their order
  expires, someone else buys the place, and then the first card payment succeeds: the service
  refunds it whole, automatically (refund kind `sold_out`), and says why in the audit trail.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from eventpay.sample_ids import ORGANIZER_ID
from eventpay.selftest.checks import Scenario, ScenarioFailed, eventually, expect
from eventpay.selftest.client import Order, ServiceUnderTest, describe
from eventpay.selftest.payment_scenarios import is_paid

BUYERS = 200
PLACES = 50
THREADS = 24
_JSON = {"Content-Type": "application/json"}


def fresh_event(
    sut: ServiceUnderTest,
    *,
    classes: list[dict[str, Any]],
    days: int = 1,
) -> dict[str, Any]:
    """A new event of the sample organizer, registration open now, lasting `days` days, with
    `classes` (their ids made unique with the event's); the event as the API shows it."""
    now = datetime.now(UTC).replace(microsecond=0)
    event_id = f"st-{uuid.uuid4().hex[:12]}"
    starts = (now + timedelta(days=60)).replace(hour=9, minute=0, second=0)
    body: dict[str, Any] = {
        "id": event_id,
        "organizer_id": ORGANIZER_ID,
        "name": f"Self-test event {event_id}",
        "timezone": "UTC",
        "currency": "usd",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(days=days - 1, hours=8)).isoformat(),
        "registration_opens_at": (now - timedelta(days=1)).isoformat(),
        "registration_closes_at": (now + timedelta(days=50)).isoformat(),
        "refund_cutoff_at": (now + timedelta(days=40)).isoformat(),
        "classes": [{**c, "id": f"{event_id}-{c['id']}"} for c in classes],
    }
    created: dict[str, Any] = expect(sut.as_admin("POST", "/v1/events", body), 201)
    return created


SPL = {"id": "spl", "code": "SPL", "name": "SPL", "member_price": 4500, "non_member_price": 6000}


def _fresh_event(sut: ServiceUnderTest, capacity: int) -> tuple[str, str]:
    """A new open event of the sample organizer with one class of `capacity` places."""
    created = fresh_event(sut, classes=[{**SPL, "capacity": capacity}])
    (cls,) = created["classes"]
    if cls.get("capacity") != capacity or cls.get("places_left") != capacity:
        raise ScenarioFailed(f"a new class shows {cls.get('places_left')} of {capacity} places")
    return str(created["id"]), str(cls["id"])


def _order_body(event_id: str, class_id: str, promo: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": [{"kind": "registration", "event_id": event_id, "class_ids": [class_id]}]
    }
    if promo is not None:
        body["promo_code"] = promo
    return body


def _race(sut: ServiceUnderTest, tokens: list[str], body: dict[str, Any]) -> list[httpx.Response]:
    """Every buyer posts `body` at once, from `THREADS` connections; their answers, in order."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def post(token: str) -> httpx.Response:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=sut.base_url, timeout=60.0)
            with lock:
                clients.append(local.client)
        client: httpx.Client = local.client
        return client.post(
            "/v1/orders",
            content=json.dumps(body),
            headers={"Authorization": f"Bearer {token}"} | _JSON,
        )

    try:
        with ThreadPoolExecutor(max_workers=min(len(tokens), THREADS)) as pool:
            return list(pool.map(post, tokens))
    finally:
        for client in clients:
            client.close()


def _code(response: httpx.Response) -> str:
    if response.status_code == 201:
        return "created"
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"http {response.status_code}"


def _pay_by_card(sut: ServiceUnderTest, order_id: str) -> None:
    payment = sut.stripe_payment(order_id)
    intent = expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    if intent.get("status") != "succeeded":
        raise ScenarioFailed(f"a card payment is {intent.get('status')}, not succeeded")


def _places_left(sut: ServiceUnderTest, event_id: str) -> int | None:
    event = expect(sut.api.get(f"/v1/events/{event_id}"), 200)
    left = event["classes"][0].get("places_left")
    return None if left is None else int(left)


def capacity_no_oversell(sut: ServiceUnderTest) -> str:
    event_id, class_id = _fresh_event(sut, PLACES)
    tokens = [sut.new_buyer() for _ in range(BUYERS)]
    answers = _race(sut, tokens, _order_body(event_id, class_id))
    codes = Counter(_code(r) for r in answers)
    if codes != Counter({"created": PLACES, "sold_out": BUYERS - PLACES}):
        raise ScenarioFailed(f"{BUYERS} buyers for {PLACES} places were answered {dict(codes)}")
    if (left := _places_left(sut, event_id)) != 0:
        raise ScenarioFailed(f"all {PLACES} places are reserved, yet {left} show as left")
    accepted = [(t, r.json()) for t, r in zip(tokens, answers, strict=True) if r.status_code == 201]
    for token, order in accepted:
        sut.buyer = token
        if not order.get("expires_at"):
            raise ScenarioFailed(f"an order holding places shows no expires_at: {describe(order)}")
        _pay_by_card(sut, order["id"])
    for token, order in accepted:
        sut.buyer = token
        paid = sut.wait_for_order(order["id"], is_paid, "the card pays the order")
        if [r.get("status") for r in paid.get("registrations", [])] != ["confirmed"]:
            raise ScenarioFailed(f"a paid order's registration is not confirmed: {describe(paid)}")
    if (left := _places_left(sut, event_id)) != 0:
        raise ScenarioFailed(f"{PLACES} paid places, yet {left} show as left")
    late = expect_status(sut, _order_body(event_id, class_id), 409)
    return (
        f"{BUYERS} buyers for {PLACES} places: {PLACES} orders paid, {BUYERS - PLACES} told "
        f"sold_out before paying, the next buyer too ({late})"
    )


def expect_status(sut: ServiceUnderTest, body: dict[str, Any], status: int) -> str:
    sut.new_buyer()
    response = sut.post_order(body)
    if response.status_code != status:
        raise ScenarioFailed(f"expected {status}, got {response.status_code}: {response.text}")
    return _code(response)


def promo_code_last_use_race(sut: ServiceUnderTest) -> str:
    event_id, class_id = _fresh_event(sut, 10)
    code = f"LAST{uuid.uuid4().hex[:6].upper()}"
    promo = {"code": code, "percent_off": 20, "max_uses": 1}
    expect(sut.as_admin("POST", f"/v1/events/{event_id}/promo-codes", promo), 201)
    tokens = [sut.new_buyer(), sut.new_buyer()]
    answers = _race(sut, tokens, _order_body(event_id, class_id, code))
    codes = sorted(_code(r) for r in answers)
    if codes != ["created", "promo_code_used_up"]:
        raise ScenarioFailed(f"two buyers racing for the last use were answered {codes}")
    (won,) = [r.json() for r in answers if r.status_code == 201]
    if won["discount"]["amount"] != won["subtotal"]["amount"] // 5:
        raise ScenarioFailed(f"the winner's order is not 20 % off: {describe(won)}")
    expired = expect(sut.as_admin("POST", f"/v1/sandbox/orders/{won['id']}/expire"), 200)
    if expired.get("places_released") != 1:
        raise ScenarioFailed(f"expiring the winner's order released {expired}")
    third = expect(
        sut.post_order(_order_body(event_id, class_id, code), token=sut.new_buyer()), 201
    )
    if not third["discount"]["amount"]:
        raise ScenarioFailed("the use given back by the expired order was not usable again")
    return (
        f"one of two buyers got code {code}'s last use (-{won['discount']['amount']}), the other "
        "was told promo_code_used_up; the use came back when the order expired"
    )


def _refunded(order: Order) -> str | None:
    refunds = order.get("refunds", [])
    if [(r.get("kind"), r.get("status")) for r in refunds] == [("sold_out", "succeeded")]:
        return None
    return f"refunds {[(r.get('kind'), r.get('status')) for r in refunds]}; {describe(order)}"


def reservation_expired_payment_refunded(sut: ServiceUnderTest) -> str:
    event_id, class_id = _fresh_event(sut, 1)
    late_buyer = sut.new_buyer()
    late = expect(sut.post_order(_order_body(event_id, class_id)), 201)
    payment = sut.stripe_payment(late["id"])
    expired = expect(sut.as_admin("POST", f"/v1/sandbox/orders/{late['id']}/expire"), 200)
    if expired.get("places_released") != 1:
        raise ScenarioFailed(f"expiring the order released {expired}")
    sut.new_buyer()
    other = expect(sut.post_order(_order_body(event_id, class_id)), 201)
    _pay_by_card(sut, other["id"])
    sut.wait_for_order(other["id"], is_paid, "the second buyer pays for the place")
    sut.buyer = late_buyer
    intent = expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    if intent.get("status") != "succeeded":
        raise ScenarioFailed(f"the late card payment is {intent.get('status')}")
    seen: list[Order] = []

    def not_yet() -> str | None:
        seen[:] = [sut.order(late["id"])]
        return _refunded(seen[0])

    eventually(not_yet, timeout_s=30.0)
    order = seen[0]
    if order.get("status") != "refunded":
        raise ScenarioFailed(f"the late order is {order.get('status')}, not refunded")
    if [r.get("status") for r in order.get("registrations", [])] != ["cancelled"]:
        raise ScenarioFailed(f"the late order's registration is not cancelled: {describe(order)}")
    if "order.places_gone" not in sut.audit_actions(late["id"]):
        raise ScenarioFailed("the audit trail does not say why the late payment was refunded")
    if (left := _places_left(sut, event_id)) != 0:
        raise ScenarioFailed(f"the place was sold once, yet {left} show as left")
    return "a payment landing after its reservation expired and the place was sold: refunded whole"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("capacity-no-oversell", capacity_no_oversell),
    Scenario("promo-code-last-use-race", promo_code_last_use_race),
    Scenario("reservation-expired-payment-refunded", reservation_expired_payment_refunded),
)
