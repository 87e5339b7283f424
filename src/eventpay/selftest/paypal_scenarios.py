"""Scenarios that pay with PayPal: approved, cancelled at PayPal, declined, raced.

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
DECLINED = "PAYMENT.CAPTURE.DECLINED"
RETURNS = 5
RESENDS = 5
# Long enough for every racer to reach PayPal while the first capture is held there.
CAPTURE_HELD_S = 0.5


def _back_at_client(answer: httpx.Response) -> str:
    """The `status` the service's 303 hands the client's return_url."""
    location = str(answer.headers.get("location", ""))
    if answer.status_code != 303 or not location.startswith(RETURN_URL + "?"):
        code = error_code(answer)
        shown = f"{answer.status_code} {code}" if code else str(answer.status_code)
        raise ScenarioFailed(
            f"GET {answer.request.url.path} answered {shown} to {location or 'nowhere'}, "
            f"expected 303 to {RETURN_URL}?..."
        )
    statuses = parse_qs(urlsplit(location).query).get("status") or [""]
    return statuses[0]


def returned(sut: ServiceUnderTest, payment: PayPalPayment, *, approve: bool = True) -> str:
    """The buyer approves (or cancels) at PayPal and is sent back: the client's `status`."""
    paypal = sut.paypal()
    back = paypal.approve(payment.token) if approve else paypal.cancel(payment.token)
    return _back_at_client(sut.follow(back))


def expect_status(got: str, wanted: str) -> None:
    if got != wanted:
        raise ScenarioFailed(f"the client's return_url got status={got}, expected {wanted}")


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


def _one_capture(sut: ServiceUnderTest, payment: PayPalPayment) -> None:
    captures = sut.paypal().captures(payment.token)
    if [c.get("status") for c in captures] != ["COMPLETED"]:
        raise ScenarioFailed(
            f"PayPal holds {len(captures)} captures of order {payment.token}: "
            f"{[c.get('status') for c in captures]}, expected exactly one COMPLETED"
        )


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
    expect_status(returned(sut, payment), "succeeded")
    # The return route captured before redirecting: no waiting for a webhook here.
    order = sut.order(payment.order_id)
    if not is_paid(order):
        raise ScenarioFailed(f"after the return, expected the order paid: {describe(order)}")
    _attempt(order, payment, "succeeded")
    _one_capture(sut, payment)
    # PayPal's approval and capture webhooks arrive afterwards; they must change nothing.
    _delivered(sut, _event_id(sut, APPROVED, payment.token), 1)
    _delivered(sut, _event_id(sut, COMPLETED, payment.token), 1)
    _paid_once(sut, payment.order_id)
    return (
        "approved, return 303 status=succeeded; order paid, registration confirmed; "
        "1 COMPLETED capture at PayPal; audit: 1 order.paid"
    )


def paypal_buyer_cancels(sut: ServiceUnderTest) -> str:
    payment = _new_paypal_payment(sut)
    expect_status(returned(sut, payment, approve=False), "canceled")
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
    expect_status(returned(sut, payment), "failed")
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
    # The worker may have captured first (after PayPal's approval webhook); either way the
    # return said failed, and the approval and decline webhooks change nothing.
    _delivered(sut, _event_id(sut, APPROVED, payment.token), 1)
    _delivered(sut, _event_id(sut, DECLINED, payment.token), 1)
    sut.order_stays(
        payment.order_id,
        lambda o: (
            o.get("status") == AWAITING
            and payment_in(o, payment.payment_id).get("status") == "failed"
        ),
        f"the attempt failed and the order {AWAITING}",
    )
    return f"return 303 status=failed; attempt failed ({code}), order {AWAITING} after webhooks"


def paypal_webhook_races_return(sut: ServiceUnderTest) -> str:
    """The buyer's return (five tabs) races PayPal's approval webhook (sent six times).

    PayPal holds the first capture call for a moment, so the others surely arrive while it
    runs. PayPal must hold one capture, and the service must pay the order once.
    """
    paypal = sut.paypal()
    payment = _new_paypal_payment(sut)
    paypal.slow_next_capture(payment.token, CAPTURE_HELD_S)
    calls_before = paypal.calls_with_request_id()
    back = paypal.approve(payment.token)
    approved = _event_id(sut, APPROVED, payment.token)
    barrier = threading.Barrier(RETURNS + RESENDS)

    def go(index: int) -> tuple[str, httpx.Response]:
        barrier.wait(timeout=DEADLINE_S)
        if index < RETURNS:
            return "return", sut.follow(back)
        return "resend", paypal.resend(approved)

    with ThreadPoolExecutor(
        max_workers=RETURNS + RESENDS, thread_name_prefix="selftest-pp"
    ) as pool:
        answers = list(pool.map(go, range(RETURNS + RESENDS)))
    statuses = Counter(_back_at_client(r) for kind, r in answers if kind == "return")
    if statuses != Counter({"succeeded": RETURNS}):
        raise ScenarioFailed(f"the returns sent the client {dict(statuses)}, expected succeeded")
    for kind, answer in answers:
        if kind == "resend":
            expect(answer, 200)
    _one_capture(sut, payment)
    calls = paypal.calls_with_request_id() - calls_before
    if calls < 2:
        raise ScenarioFailed(
            f"no race happened: {calls} capture call reached PayPal while {RETURNS} returns "
            "and the approval webhook were asking for one"
        )
    _delivered(sut, approved, 1 + RESENDS)
    _delivered(sut, _event_id(sut, COMPLETED, payment.token), 1)
    order = sut.order(payment.order_id)
    if not is_paid(order):
        raise ScenarioFailed(f"expected the order paid: {describe(order)}")
    _paid_once(sut, payment.order_id)
    return (
        f"{RETURNS} returns 303 status=succeeded racing {1 + RESENDS} approval deliveries; "
        f"{calls} capture calls reached PayPal, 1 capture made; "
        "audit: 1 payment.succeeded, 1 order.paid"
    )


SCENARIOS = (
    Scenario("paypal-success", paypal_success, needs_paypal=True),
    Scenario("paypal-buyer-cancels", paypal_buyer_cancels, needs_paypal=True),
    Scenario("paypal-capture-declined", paypal_capture_declined, needs_paypal=True),
    Scenario("paypal-webhook-races-return", paypal_webhook_races_return, needs_paypal=True),
)
