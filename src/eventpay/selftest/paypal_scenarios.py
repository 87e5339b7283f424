"""Scenarios that pay with PayPal: approved, cancelled, declined, raced, and paid twice.

Each plays the buyer the way a browser does: start the attempt at the API, approve (or cancel)
at the PayPal sandbox, then open the link PayPal sends the browser back to. That link is the
service's own return route, which captures and redirects (303) to the client's `return_url`
with the attempt's `status`, while the sandbox delivers its signed webhooks to the service as
PayPal would. What PayPal itself holds (captures, deliveries) is read back from the sandbox.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx

from eventpay.selftest.checks import (
    DEADLINE_S,
    Scenario,
    ScenarioFailed,
    error_code,
    eventually,
    expect,
    throughout,
)
from eventpay.selftest.client import (
    Order,
    PayPalPayment,
    ServiceUnderTest,
    describe,
    payment_in,
)
from eventpay.selftest.payment_scenarios import AWAITING, is_paid
from eventpay.selftest.paypal_sandbox import APPROVED

# The client's own page the service sends the buyer back to; never opened, only checked.
RETURN_URL = "https://shop.selftest.invalid/checkout/done"
COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
RETURNS = 5
RESENDS = 5
# The worker's janitor sends automatic refunds every 5 s by default: a few rounds of it.
REFUND_DEADLINE_S = 20.0


def _back_at_client(answer: httpx.Response) -> str:
    """The `status` the service's 303 hands the client's return_url."""
    location = answer.headers.get("location", "")
    if answer.status_code != 303 or not location.startswith(RETURN_URL + "?"):
        code = error_code(answer)
        shown = f"{answer.status_code} {code}" if code else str(answer.status_code)
        raise ScenarioFailed(
            f"GET {answer.request.url.path} answered {shown} to {location or 'nowhere'}, "
            f"expected 303 to {RETURN_URL}?..."
        )
    return (parse_qs(urlsplit(location).query).get("status") or [""])[0]


def _returned(sut: ServiceUnderTest, payment: PayPalPayment, *, approve: bool = True) -> str:
    """The buyer approves (or cancels) at PayPal and is sent back: the client's `status`."""
    paypal = sut.paypal()
    back = paypal.approve(payment.token) if approve else paypal.cancel(payment.token)
    return _back_at_client(sut.follow(back))


def _expect_status(returned: str, wanted: str) -> None:
    if returned != wanted:
        raise ScenarioFailed(f"the client's return_url got status={returned}, expected {wanted}")


def _attempt(order: Order, payment: PayPalPayment, wanted: str) -> Order:
    attempt = payment_in(order, payment.payment_id)
    if attempt.get("status") != wanted:
        raise ScenarioFailed(f"the PayPal attempt is not {wanted}: {describe(order)}")
    return attempt


def _new_paypal_payment(sut: ServiceUnderTest) -> PayPalPayment:
    return sut.paypal_payment(sut.new_order()["id"], RETURN_URL)


def _event_id(sut: ServiceUnderTest, event_type: str, token: str) -> str:
    found: list[str] = []

    def missing() -> str | None:
        event = sut.paypal().event_about(event_type, token)
        found[:] = [str(event["id"])] if event else []
        return None if found else f"the PayPal sandbox lists no {event_type} for order {token}"

    eventually(missing)
    return found[0]


def _delivered(sut: ServiceUnderTest, event_id: str, times: int) -> None:
    """Wait until the sandbox's deliveries of the event to the service were answered 2xx."""

    def short() -> str | None:
        done = sut.paypal().delivered(event_id, sut.paypal_webhook_id)
        return None if done >= times else f"{done} of {times} deliveries of {event_id} got a 2xx"

    eventually(short)


def _paid_once(sut: ServiceUnderTest, order_id: str) -> None:
    """One `payment.succeeded` and one `order.paid`, through a settle window (webhooks land)."""

    def counts() -> tuple[int, int]:
        actions = sut.audit_actions(order_id)
        return actions.count("payment.succeeded"), actions.count("order.paid")

    def too_many() -> str | None:
        succeeded, paid = counts()
        if succeeded > 1 or paid > 1:
            return f"the audit trail has {succeeded} payment.succeeded and {paid} order.paid rows"
        return None

    throughout(too_many)
    if counts() != (1, 1):
        succeeded, paid = counts()
        raise ScenarioFailed(
            f"the audit trail has {succeeded} payment.succeeded and {paid} order.paid rows, "
            "expected exactly one of each"
        )


def paypal_success(sut: ServiceUnderTest) -> str:
    payment = _new_paypal_payment(sut)
    _expect_status(_returned(sut, payment), "succeeded")
    # The return route captured before redirecting: no waiting for a webhook here.
    order = sut.order(payment.order_id)
    if not is_paid(order):
        raise ScenarioFailed(f"after the return, expected the order paid: {describe(order)}")
    _attempt(order, payment, "succeeded")
    # PayPal's approval and capture webhooks arrive afterwards; they must change nothing.
    _delivered(sut, _event_id(sut, COMPLETED, payment.token), 1)
    _paid_once(sut, payment.order_id)
    return "approved, return 303 status=succeeded; order paid, registration confirmed; 1 order.paid"


def paypal_buyer_cancels(sut: ServiceUnderTest) -> str:
    payment = _new_paypal_payment(sut)
    _expect_status(_returned(sut, payment, approve=False), "canceled")
    order = sut.order(payment.order_id)
    _attempt(order, payment, "canceled")
    if order.get("status") != AWAITING:
        raise ScenarioFailed(f"a cancelled attempt moved the order: {describe(order)}")
    again = sut.paypal_payment(payment.order_id, RETURN_URL)
    if again.payment_id == payment.payment_id or again.token == payment.token:
        raise ScenarioFailed("the new PayPal attempt reuses the cancelled attempt or its order")
    _attempt(sut.order(payment.order_id), again, "requires_action")
    return f"cancel 303 status=canceled; attempt canceled, order {AWAITING}; new attempt started"


def paypal_capture_declined(sut: ServiceUnderTest) -> str:
    payment = _new_paypal_payment(sut)
    sut.paypal().next_capture(payment.token, "DECLINED")
    _expect_status(_returned(sut, payment), "failed")
    order = sut.order(payment.order_id)
    code = _attempt(order, payment, "failed").get("failure_code")
    if order.get("status") != AWAITING:
        raise ScenarioFailed(f"a declined capture moved the order: {describe(order)}")
    declined = [c for c in sut.paypal().captures(payment.token) if c.get("status") == "DECLINED"]
    reasons = {"INSTRUMENT_DECLINED"} | {
        str((c.get("status_details") or {}).get("reason")) for c in declined
    }
    if not declined or code not in reasons:
        raise ScenarioFailed(
            f"the attempt's failure_code is {code!r}; PayPal declined with one of "
            f"{sorted(reasons)} ({len(declined)} declined captures at PayPal)"
        )
    return f"return 303 status=failed; attempt failed ({code}), order {AWAITING}"


def paypal_webhook_races_return(sut: ServiceUnderTest) -> str:
    """The buyer's return (five tabs) races PayPal's approval webhook (sent six times).

    Every path captures with the same PayPal-Request-Id: PayPal must capture once, and the
    service must pay the order once.
    """
    paypal = sut.paypal()
    payment = _new_paypal_payment(sut)
    replays_before = int(paypal.idempotency().get("replays", 0))
    back = paypal.approve(payment.token)
    approved = _event_id(sut, APPROVED, payment.token)
    barrier = threading.Barrier(RETURNS + RESENDS)

    def go(index: int) -> tuple[str, httpx.Response]:
        barrier.wait(timeout=DEADLINE_S)
        if index < RETURNS:
            return "return", sut.follow(back)
        return "resend", paypal.resend(approved)

    with ThreadPoolExecutor(max_workers=RETURNS + RESENDS, thread_name_prefix="selftest-pp") as pool:
        answers = list(pool.map(go, range(RETURNS + RESENDS)))
    statuses = Counter(_back_at_client(r) for kind, r in answers if kind == "return")
    if statuses != Counter({"succeeded": RETURNS}):
        raise ScenarioFailed(f"the returns sent the client {dict(statuses)}, expected succeeded")
    for kind, answer in answers:
        if kind == "resend":
            expect(answer, 200)
    captures = paypal.captures(payment.token)
    if len(captures) != 1:
        raise ScenarioFailed(
            f"PayPal holds {len(captures)} captures of order {payment.token}: "
            f"{[c.get('status') for c in captures]}, expected exactly one"
        )
    replays = int(paypal.idempotency().get("replays", 0)) - replays_before
    _delivered(sut, approved, 1 + RESENDS)
    _delivered(sut, _event_id(sut, COMPLETED, payment.token), 1)
    order = sut.order(payment.order_id)
    if not is_paid(order):
        raise ScenarioFailed(f"expected the order paid: {describe(order)}")
    _paid_once(sut, payment.order_id)
    return (
        f"{RETURNS} returns 303 status=succeeded racing {1 + RESENDS} approval deliveries; "
        f"1 capture at PayPal ({replays} capture requests replayed); "
        "audit: 1 payment.succeeded, 1 order.paid"
    )


def _refund_done(sut: ServiceUnderTest, order_id: str) -> Order:
    seen: list[Order] = []

    def not_yet() -> str | None:
        seen[:] = [sut.order(order_id)]
        refunds = seen[0].get("refunds", [])
        if any(r.get("status") == "succeeded" for r in refunds):
            return None
        shown = [f"{r.get('provider')} {r.get('status')}" for r in refunds]
        return f"no succeeded refund yet, refunds {shown}; {describe(seen[0])}"

    eventually(not_yet, timeout_s=REFUND_DEADLINE_S)
    return seen[0]


def double_payment_refunded(sut: ServiceUnderTest) -> str:
    """Paid with PayPal, then with the card a second tab had started: the card is refunded."""
    order_id = sut.new_order()["id"]
    card = sut.stripe_payment(order_id)
    paypal = sut.paypal_payment(order_id, RETURN_URL)
    _expect_status(_returned(sut, paypal), "succeeded")
    if not is_paid(sut.order(order_id)):
        raise ScenarioFailed(f"PayPal did not pay the order: {describe(sut.order(order_id))}")
    intent = expect(sut.sandbox().confirm(card.client_secret, "pm_card_visa"), 200)
    if intent.get("status") != "succeeded":
        raise ScenarioFailed(f"the second tab's card payment is {intent.get('status')}")
    order = _refund_done(sut, order_id)
    total = order.get("total")
    refunds = order.get("refunds", [])
    refund = refunds[0]
    if len(refunds) != 1 or refund.get("provider") != "stripe" or refund.get("amount") != total:
        raise ScenarioFailed(f"expected one stripe refund of {total}, the order shows {refunds}")
    if order.get("status") != "paid" or order.get("amount_paid") != total:
        raise ScenarioFailed(
            f"after the refund, amount_paid is {order.get('amount_paid')} of {total}; "
            f"{describe(order)}"
        )
    rows = sut.audit(order_id)
    actions = Counter(str(row.get("action")) for row in rows)
    refunded = {row.get("payment_id") for row in rows if row.get("action") == "refund.succeeded"}
    wanted = {"order.paid": 1, "order.overpaid": 1, "refund.succeeded": 1}
    if any(actions[action] != n for action, n in wanted.items()) or refunded != {card.payment_id}:
        raise ScenarioFailed(
            f"the audit trail has {[f'{a} x{actions[a]}' for a in wanted]}, refund.succeeded "
            f"for payments {sorted(map(str, refunded))}, expected one each, for the card"
        )
    amount = refund["amount"]
    return (
        f"PayPal paid, card paid too; card refunded automatically "
        f"({amount.get('amount')} {amount.get('currency')} succeeded); amount_paid = total; "
        "audit: order.overpaid, refund.succeeded"
    )


SCENARIOS = (
    Scenario("paypal-success", paypal_success),
    Scenario("paypal-buyer-cancels", paypal_buyer_cancels),
    Scenario("paypal-capture-declined", paypal_capture_declined),
    Scenario("paypal-webhook-races-return", paypal_webhook_races_return),
    Scenario("double-payment-refunded", double_payment_refunded),
)
