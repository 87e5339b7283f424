"""Scenarios at the Stripe webhook: duplicate deliveries, a forged signature, a stale timestamp.

Deliveries are POSTed straight to `/v1/webhooks/stripe`, signed the way Stripe signs
(`credentials.stripe_signature`) with the first configured endpoint secret, so the self-test
controls the timing (twenty copies at once) and the signature (a wrong secret, an old
timestamp). Events come from the sandbox or, for an unpaid order, are built from its
PaymentIntent: a success nobody paid for is exactly what a forger would send.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from eventpay.selftest.checks import (
    DEADLINE_S,
    Scenario,
    ScenarioFailed,
    error_code,
    eventually,
    expect,
    expect_error,
    throughout,
)
from eventpay.selftest.client import Order, ServiceUnderTest
from eventpay.selftest.credentials import stripe_signature

SUCCEEDED = "payment_intent.succeeded"
COPIES = 20
STALE_BY_S = 600


def _succeeded_counts(sut: ServiceUnderTest, order_id: str) -> tuple[int, int]:
    """How many `payment.succeeded` and `order.paid` rows the order's audit trail has."""
    actions = sut.audit_actions(order_id)
    return actions.count("payment.succeeded"), actions.count("order.paid")


def _answer(response: httpx.Response) -> str:
    code = error_code(response)
    return f"{response.status_code} {code}" if code else str(response.status_code)


def _deliver_at_once(sut: ServiceUnderTest, body: bytes, copies: int) -> list[httpx.Response]:
    # The barrier releases every thread together, so the copies race inside the service.
    barrier = threading.Barrier(copies)

    def deliver(_: int) -> httpx.Response:
        barrier.wait(timeout=DEADLINE_S)
        return sut.deliver_webhook(
            body, stripe_signature(body, sut.webhook_secret, int(time.time()))
        )

    with ThreadPoolExecutor(max_workers=copies, thread_name_prefix="selftest-webhook") as pool:
        return list(pool.map(deliver, range(copies)))


def delivered_20_times(sut: ServiceUnderTest) -> str:
    """Twenty first-time copies of one event race the sandbox's own delivery.

    The sandbox's `payment_intent.succeeded` is re-issued under a fresh event id the service
    has never seen, and posted twenty times at once right after the confirmation, while the
    sandbox delivers the original: storage must keep one copy (19 duplicates), and the two
    stored events for the same intent must produce one transition.
    """
    payment = sut.new_payment()
    expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    order_id = payment.order_id

    found: list[Order] = []

    def no_event() -> str | None:
        event = sut.sandbox().event_for(SUCCEEDED, payment.intent_id)
        found[:] = [event] if event else []
        return None if event else f"the sandbox lists no {SUCCEEDED} for {payment.intent_id}"

    eventually(no_event)
    event = dict(found[0])
    event["id"] = f"evt_selftest_{uuid.uuid4().hex[:20]}"
    body = json.dumps(event).encode()
    responses = _deliver_at_once(sut, body, COPIES)
    refused = Counter(_answer(r) for r in responses if not r.is_success)
    if refused:
        shown = ", ".join(f"{answer} x{n}" for answer, n in refused.most_common())
        raise ScenarioFailed(
            f"{refused.total()} of {COPIES} deliveries were not answered 2xx: {shown}"
        )
    duplicates = sum(1 for r in responses if r.json().get("duplicate") is True)
    if duplicates != COPIES - 1:
        raise ScenarioFailed(
            f"{COPIES - duplicates} of {COPIES} identical deliveries were stored, expected 1"
        )
    sut.wait_for_order(order_id, lambda o: o.get("status") == "paid", "the order paid")

    def more_than_once() -> str | None:
        succeeded, paid = _succeeded_counts(sut, order_id)
        if succeeded > 1 or paid > 1:
            return f"the audit trail has {succeeded} payment.succeeded and {paid} order.paid rows"
        return None

    throughout(more_than_once)
    counts = _succeeded_counts(sut, order_id)
    if counts != (1, 1):
        raise ScenarioFailed(
            f"the audit trail has {counts[0]} payment.succeeded and {counts[1]} order.paid "
            "rows, expected exactly one of each"
        )
    return (
        f"{COPIES}/{COPIES} deliveries 2xx, stored once ({duplicates} duplicates) while the "
        "sandbox delivered its own copy; audit: 1 payment.succeeded, 1 order.paid"
    )


def _unpaid_success_event(sut: ServiceUnderTest) -> tuple[str, bytes]:
    """A fresh unpaid order, and a `payment_intent.succeeded` event for its PaymentIntent."""
    payment = sut.new_payment()
    intent = sut.sandbox().payment_intent(payment.intent_id)
    event = {
        "id": f"evt_selftest_{uuid.uuid4().hex}",
        "object": "event",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": SUCCEEDED,
        "data": {
            "object": {**intent, "status": "succeeded", "amount_received": intent.get("amount")}
        },
    }
    return payment.order_id, json.dumps(event).encode()


def still_unpaid(order: Order) -> bool:
    return order.get("status") == "awaiting_payment" and all(
        p.get("status") != "succeeded" for p in order.get("payments", [])
    )


def _refused_and_unpaid(
    sut: ServiceUnderTest, order_id: str, answer: httpx.Response, code: str
) -> str:
    expect_error(answer, 400, code)
    sut.order_stays(order_id, still_unpaid, "the order still awaiting_payment")
    return f"400 {code}; order still awaiting_payment"


def forged_signature(sut: ServiceUnderTest) -> str:
    order_id, body = _unpaid_success_event(sut)
    # A fresh random secret: it cannot be one the service accepts.
    wrong = f"whsec_selftest_{uuid.uuid4().hex}"
    answer = sut.deliver_webhook(body, stripe_signature(body, wrong, int(time.time())))
    return _refused_and_unpaid(sut, order_id, answer, "signature_mismatch")


def stale_timestamp(sut: ServiceUnderTest) -> str:
    order_id, body = _unpaid_success_event(sut)
    then = int(time.time()) - STALE_BY_S
    answer = sut.deliver_webhook(body, stripe_signature(body, sut.webhook_secret, then))
    return _refused_and_unpaid(sut, order_id, answer, "stale_timestamp")


SCENARIOS = (
    Scenario("webhook-delivered-20-times", delivered_20_times),
    Scenario("forged-signature", forged_signature),
    Scenario("stale-timestamp", stale_timestamp),
)
