"""Organizers paid: reserves held until after the event, PayPal payout batches followed to
their end, unclaimed money coming back, and a reconciliation that notices a lost webhook.

Every scenario can run again on the same deployment: each payout run names a period of its own
and only the organizer it is about, and each check compares before and after.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from eventpay.sample_ids import (
    OPEN_CLASSES,
    OPEN_EVENT,
    ORGANIZER_ID,
    PAYOUT_EVENT,
    PAYOUT_ORGANIZER_ID,
    UNCLAIMED_EVENT,
    UNCLAIMED_ORGANIZER_ID,
)
from eventpay.selftest.checks import Scenario, ScenarioFailed, ScenarioSkipped, expect
from eventpay.selftest.client import ServiceUnderTest, registration
from eventpay.selftest.payment_scenarios import is_paid

Json = dict[str, Any]
WAIT_S = 20.0


def _position(sut: ServiceUnderTest, organizer_id: str, currency: str = "usd") -> dict[str, int]:
    body: Json = expect(sut.organizer_balance(organizer_id), 200)
    for entry in body.get("balances", []):
        if entry.get("currency") == currency:
            return {part: int(entry[part]["amount"]) for part in ("available", "held", "pending")}
    return {"available": 0, "held": 0, "pending": 0}


def _pay_entry(sut: ServiceUnderTest, event_id: str, class_id: str | None = None) -> Json:
    """One entry for `event_id` (its SPL class unless told), paid by card; the order."""
    body = registration(event_id, [class_id or f"{event_id}-spl"])
    order: Json = expect(sut.post_order(body), 201)
    payment = sut.stripe_payment(order["id"])
    expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    paid: Json = sut.wait_for_order(order["id"], is_paid, "the order paid")
    return paid


def _run(sut: ServiceUnderTest, organizer_id: str) -> Json:
    """A payout run for one organizer, in a period of its own."""
    body = {"period": f"selftest-{uuid.uuid4().hex[:12]}", "organizer_ids": [organizer_id]}
    report: Json = expect(sut.as_admin("POST", "/v1/payouts/runs", body), 201)
    return report


def _payouts(sut: ServiceUnderTest, organizer_id: str) -> list[Json]:
    body: Json = expect(sut.as_admin("GET", f"/v1/organizers/{organizer_id}/payouts"), 200)
    found: list[Json] = body["payouts"]
    return found


def _wait_for_payout(
    sut: ServiceUnderTest, organizer_id: str, payout_id: str, holds: Callable[[Json], bool]
) -> Json:
    deadline = time.monotonic() + WAIT_S
    while True:
        payout = next((p for p in _payouts(sut, organizer_id) if p["id"] == payout_id), None)
        if payout is not None and holds(payout):
            return payout
        if time.monotonic() > deadline:
            raise ScenarioFailed(f"payout {payout_id} did not get there in {WAIT_S}s: {payout}")
        time.sleep(0.3)


def _release(sut: ServiceUnderTest, event_id: str) -> None:
    body = {"reason": "self-test: the organizer is trusted"}
    expect(sut.as_admin("POST", f"/v1/events/{event_id}/reserve-release", body), 200)


def _ledger_clean(sut: ServiceUnderTest) -> None:
    verdict = expect(sut.ledger_verify(), 200)
    if not verdict.get("clean"):
        raise ScenarioFailed(f"ledger not clean: {verdict.get('problems')}")


def _paid_out(sut: ServiceUnderTest, organizer_id: str, event_id: str) -> tuple[Json, int]:
    """Pay an entry, release the event's reserve, run payouts: the created payout, its amount."""
    _pay_entry(sut, event_id)
    _release(sut, event_id)
    available = _position(sut, organizer_id)["available"]
    if available <= 0:
        raise ScenarioFailed(f"nothing available after the reserve was released: {available}")
    report = _run(sut, organizer_id)
    lines = [(line["outcome"], line["available"]["amount"]) for line in report["lines"]]
    if lines != [("created", available)]:
        raise ScenarioFailed(f"the run should pay {available} once, it planned {lines}")
    if report["sent"] != 1:
        raise ScenarioFailed(f"the batch was not accepted by PayPal: {report}")
    return report["lines"][0], available


def paypal_payout_batch(sut: ServiceUnderTest) -> str:
    line, amount = _paid_out(sut, PAYOUT_ORGANIZER_ID, PAYOUT_EVENT)
    payout = _wait_for_payout(
        sut, PAYOUT_ORGANIZER_ID, line["payout_id"], lambda p: p["status"] == "paid"
    )
    after = _position(sut, PAYOUT_ORGANIZER_ID)
    if after["pending"] != 0 or after["available"] != 0:
        raise ScenarioFailed(f"after the payout was paid the balance is {after}")
    again = _run(sut, PAYOUT_ORGANIZER_ID)
    if [line["outcome"] for line in again["lines"]] not in ([], ["nothing_available"]):
        raise ScenarioFailed(f"a second run would pay again: {again['lines']}")
    _ledger_clean(sut)
    return (
        f"payout {payout['id']} of {amount} usd sent in one batch, PayPal said "
        f"{payout['provider_status']} (webhook), nothing left to pay, ledger clean"
    )


def payout_unclaimed_returns(sut: ServiceUnderTest) -> str:
    line, amount = _paid_out(sut, UNCLAIMED_ORGANIZER_ID, UNCLAIMED_EVENT)
    payout = _wait_for_payout(
        sut, UNCLAIMED_ORGANIZER_ID, line["payout_id"], lambda p: p["status"] == "unclaimed"
    )
    if _position(sut, UNCLAIMED_ORGANIZER_ID)["pending"] != amount:
        raise ScenarioFailed("an unclaimed payout should still be on its way")
    item = payout.get("provider_item_id")
    if not item:
        raise ScenarioFailed(f"the unclaimed payout names no PayPal item: {payout}")
    sut.paypal().return_unclaimed(item)
    back = _wait_for_payout(
        sut, UNCLAIMED_ORGANIZER_ID, line["payout_id"], lambda p: p["status"] == "returned"
    )
    after = _position(sut, UNCLAIMED_ORGANIZER_ID)
    if after != {"available": amount, "held": 0, "pending": 0}:
        raise ScenarioFailed(f"the returned {amount} is not available again: {after}")
    _ledger_clean(sut)
    return (
        f"payout of {amount} usd UNCLAIMED ({payout['failure_reason']}), then RETURNED: "
        f"{back['status']}, available again to the organizer, ledger clean"
    )


def payout_reserve_held_until_after_event(sut: ServiceUnderTest) -> str:
    event: Json = expect(sut.api.get(f"/v1/events/{OPEN_EVENT}"), 200)
    before = _position(sut, ORGANIZER_ID)
    order = _pay_entry(sut, OPEN_EVENT, OPEN_CLASSES[0])
    after = _position(sut, ORGANIZER_ID)
    held = after["held"] - before["held"]
    if not 0 < held <= int(order["total"]["amount"]) or after["available"] != before["available"]:
        raise ScenarioFailed(f"a paid entry for a future event should be held: {before} → {after}")
    report = _run(sut, ORGANIZER_ID)
    outcomes = [line["outcome"] for line in report["lines"]]
    if "created" in outcomes:
        raise ScenarioFailed(f"money still in its reserve was paid out: {report['lines']}")
    _ledger_clean(sut)
    return (
        f"{held} usd of a {order['total']['amount']} usd order held until days after the "
        f"event ({event.get('name')}); the payout run paid nothing of it ({outcomes})"
    )


def _charge_of(intent: Json) -> set[str]:
    """The ids a reconciliation may name the payment by: the intent's and its charge's."""
    latest = intent.get("latest_charge")
    charge = latest.get("id") if isinstance(latest, dict) else latest
    return {str(intent.get("id"))} | ({str(charge)} if charge else set())


def reconcile_detects_mismatch(sut: ServiceUnderTest) -> str:
    """A payment whose webhook never came is named by reconciliation, then agrees once it
    arrives: the books are checked against Stripe, not against our own memory."""
    sandbox = sut.sandbox()
    ours = [
        e
        for e in sandbox.webhook_endpoints()
        if str(e.get("url", "")).endswith("/v1/webhooks/stripe") and e.get("status") == "enabled"
    ]
    if not ours:
        raise ScenarioSkipped("the Stripe sandbox delivers no webhooks to this service")
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    payment = sut.new_payment()
    for endpoint in ours:
        sandbox.set_endpoint_disabled(endpoint["id"], disabled=True)
    try:
        expect(sandbox.confirm(payment.client_secret, "pm_card_visa"), 200)
        charge = _charge_of(sandbox.payment_intent(payment.intent_id))
        deadline = time.monotonic() + 10
        while True:  # Stripe lists the charge's balance transaction a moment after it
            run = expect(sut.reconcile("stripe", since), 201)
            named = [m for m in run.get("mismatches", []) if m.get("ref") in charge]
            if named or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        for endpoint in ours:
            sandbox.set_endpoint_disabled(endpoint["id"], disabled=False)
    event = sandbox.event_for("payment_intent.succeeded", payment.intent_id)
    if event is not None:
        sandbox.resend(str(event["id"]))
    if not named:
        raise ScenarioFailed(f"the unseen payment {payment.intent_id} was not named: {run}")
    if event is None:
        raise ScenarioFailed("Stripe has no payment_intent.succeeded event to send again")
    sut.wait_for_order(payment.order_id, is_paid, "the order paid once the webhook came")
    deadline = time.monotonic() + 10
    while True:
        again = expect(sut.reconcile("stripe", since), 201)
        if again.get("clean") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not again.get("clean"):
        raise ScenarioFailed(f"still mismatched after the webhook: {again.get('mismatches')}")
    _ledger_clean(sut)
    return (
        f"named {named[0].get('kind')} {named[0].get('ref')} while its webhook was lost; "
        "clean once Stripe sent it again"
    )


SCENARIOS = (
    Scenario("payout-reserve-held-until-after-event", payout_reserve_held_until_after_event),
    Scenario("paypal-payout-batch", paypal_payout_batch, needs_paypal=True),
    Scenario("payout-unclaimed-returns", payout_unclaimed_returns, needs_paypal=True),
    Scenario("reconcile-detects-mismatch", reconcile_detects_mismatch),
)
