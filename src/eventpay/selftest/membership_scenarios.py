"""Scenarios of paid memberships through Stripe Billing, black-box over HTTP.

Each subscribes a fresh competitor (`sut.new_buyer()`) and pays the first invoice at the Stripe
sandbox as Stripe.js would; the sandbox delivers its own signed events to the service. Billing
time is the sandbox's: the scenario attaches a test clock to the subscription's customer
(`POST /_sandbox/customers/{id}/test_clock`) and advances it with Stripe's own
`POST /v1/test_helpers/test_clocks/{id}/advance`; the service's clock does not move, so what is
checked is what the events established (the paid period, the failed attempts), the member price
of a new order, and a clean ledger.

- `membership-subscribe-and-renew`: subscribe to Pro by card: active, a new order is priced at
  the member price; a year later the renewal is paid and the paid period moves on a year; the
  ledger is clean.
- `membership-payment-fails-then-recovers`: the renewal is declined: the membership counts the
  failed attempt and member prices still apply; a new card, then Stripe's retry a day later,
  pays it: no failed attempt left and the paid period moves on a year; the ledger is clean.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventpay.selftest.capacity_scenarios import SPL, fresh_event
from eventpay.selftest.checks import Scenario, ScenarioFailed, eventually, expect
from eventpay.selftest.client import SANDBOX_API_KEY, ServiceUnderTest

Json = dict[str, Any]
_SECRET = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}
_HOUR_S = 3600
_DAY_S = 86400


def _auth(sut: ServiceUnderTest) -> dict[str, str]:
    return {"Authorization": f"Bearer {sut.buyer}"}


def _me(sut: ServiceUnderTest) -> Json | None:
    body: Json = expect(sut.api.get("/v1/me/membership", headers=_auth(sut)), 200)
    membership: Json | None = body.get("membership")
    return membership


def _wait(sut: ServiceUnderTest, holds: Any, wanted: str) -> Json:
    seen: list[Json | None] = [None]

    def problem() -> str | None:
        seen[0] = _me(sut)
        if seen[0] is not None and holds(seen[0]):
            return None
        return f"expected {wanted}, but the membership is {seen[0]}"

    eventually(problem)
    found = seen[0]
    assert found is not None
    return found


def _stripe(sut: ServiceUnderTest, method: str, path: str, **kwargs: Any) -> Json:
    answer = sut.sandbox().client.request(method, path, headers=_SECRET, **kwargs)
    body: Json = expect(answer, 200)
    return body


def _subscribe(sut: ServiceUnderTest) -> Json:
    sut.new_buyer()
    started: Json = expect(
        sut.api.post(
            "/v1/me/membership", json={"tier": "pro", "provider": "stripe"}, headers=_auth(sut)
        ),
        201,
    )
    secret = started.get("client_secret")
    if not isinstance(secret, str):
        raise ScenarioFailed(f"a Stripe membership without a client secret: {started}")
    intent = expect(sut.sandbox().confirm(secret, "pm_card_visa"), 200)
    if intent.get("status") != "succeeded":
        raise ScenarioFailed(f"the first membership payment is {intent.get('status')}")
    return _wait(sut, lambda m: m["status"] == "active", "an active membership")


def _member_price(sut: ServiceUnderTest) -> int:
    event = fresh_event(sut, classes=[SPL])
    item = {
        "kind": "registration",
        "event_id": event["id"],
        "class_ids": [event["classes"][0]["id"]],
    }
    order: Json = expect(sut.post_order({"items": [item]}), 201)
    return int(order["subtotal"]["amount"])


def _clock(sut: ServiceUnderTest, membership: Json) -> tuple[str, str, int]:
    """The subscription's id, a test clock now driving its customer, and its period's end."""
    sub_id = str(membership["provider_subscription_id"])
    sub = _stripe(sut, "GET", f"/v1/subscriptions/{sub_id}")
    clock = sut.sandbox().client.post(f"/_sandbox/customers/{sub['customer']}/test_clock")
    clock_id = str(expect(clock, 200)["id"])
    end = max(int(i["current_period_end"]) for i in sub["items"]["data"])
    return sub_id, clock_id, end


def _advance(sut: ServiceUnderTest, clock_id: str, to: int) -> None:
    _stripe(
        sut, "POST", f"/v1/test_helpers/test_clocks/{clock_id}/advance", data={"frozen_time": to}
    )


def _paid_through(membership: Json) -> datetime:
    return datetime.fromisoformat(str(membership["paid_through"]))


def _ledger_clean(sut: ServiceUnderTest) -> None:
    report: Json = expect(sut.ledger_verify(), 200)
    if not report.get("clean"):
        raise ScenarioFailed(f"ledger not clean: {report.get('problems')}")


def membership_subscribe_and_renew(sut: ServiceUnderTest) -> str:
    first = _subscribe(sut)
    price = _member_price(sut)
    if price != SPL["member_price"]:
        raise ScenarioFailed(f"a member's entry costs {price}, not {SPL['member_price']}")
    _, clock_id, end = _clock(sut, first)
    _advance(sut, clock_id, end + _HOUR_S)
    year_on = _paid_through(first) + timedelta(days=360)
    renewed = _wait(sut, lambda m: _paid_through(m) > year_on, "the renewal paid for another year")
    if renewed["status"] != "active":
        raise ScenarioFailed(f"a renewed membership is {renewed['status']}")
    _ledger_clean(sut)
    return f"active, member price {price}, renewed to {renewed['paid_through']}"


def membership_payment_fails_then_recovers(sut: ServiceUnderTest) -> str:
    first = _subscribe(sut)
    sub_id, clock_id, end = _clock(sut, first)
    _stripe(
        sut,
        "POST",
        f"/v1/subscriptions/{sub_id}",
        data={"default_payment_method": "pm_card_chargeDeclined"},
    )
    _advance(sut, clock_id, end + _HOUR_S)
    failed = _wait(sut, lambda m: m["failed_attempts"] >= 1, "a failed renewal counted")
    if _paid_through(failed) != _paid_through(first):
        raise ScenarioFailed("a declined renewal moved the paid period")
    price = _member_price(sut)
    if price != SPL["member_price"]:
        raise ScenarioFailed(f"a member in dunning pays {price}, not {SPL['member_price']}")
    _stripe(
        sut, "POST", f"/v1/subscriptions/{sub_id}", data={"default_payment_method": "pm_card_visa"}
    )
    _advance(sut, clock_id, end + 2 * _DAY_S)
    year_on = _paid_through(first) + timedelta(days=360)
    recovered = _wait(
        sut,
        lambda m: m["failed_attempts"] == 0 and _paid_through(m) > year_on,
        "the retry paid with the new card",
    )
    _ledger_clean(sut)
    return f"declined once, member price kept, recovered to {recovered['paid_through']}"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("membership-subscribe-and-renew", membership_subscribe_and_renew),
    Scenario("membership-payment-fails-then-recovers", membership_payment_fails_then_recovers),
)
