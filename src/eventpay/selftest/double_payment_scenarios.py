"""Scenario of an order paid twice: a PayPal capture still pending when the card pays.

pretix's "payment 2.0" came from exactly this (pretix issue #343): both payments succeed, the
order is paid once, and the later payment is refunded automatically (the worker's janitor sends
the refund every `worker_janitor_interval_s`, 5 s by default). The buyer approves PayPal in one
tab, PayPal holds the capture as PENDING, the card in the other tab pays the order, and then
PayPal completes the capture: money the order no longer needs, which the service must return.
(PayPal first and a card afterwards cannot be staged reliably any more: the janitor cancels a
card intent left open once its order is paid, which is the point.) Checked where the money is:
the order's refunds and amount paid, the audit trail, and the refund PayPal itself reports.
"""

from __future__ import annotations

from collections import Counter

from eventpay.selftest.checks import Scenario, ScenarioFailed, eventually, expect
from eventpay.selftest.client import Order, ServiceUnderTest, describe
from eventpay.selftest.payment_scenarios import is_paid
from eventpay.selftest.paypal_scenarios import RETURN_URL, expect_status, returned

# A few rounds of the janitor, with room for a slow machine.
REFUND_DEADLINE_S = 20.0


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


def _audited(sut: ServiceUnderTest, order_id: str, refunded_payment: str) -> None:
    rows = sut.audit(order_id)
    actions = Counter(str(row.get("action")) for row in rows)
    wanted = ("order.paid", "order.overpaid", "refund.succeeded")
    refunded = {row.get("payment_id") for row in rows if row.get("action") == "refund.succeeded"}
    if any(actions[action] != 1 for action in wanted) or refunded != {refunded_payment}:
        raise ScenarioFailed(
            f"the audit trail has {', '.join(f'{a} x{actions[a]}' for a in wanted)} (refund for "
            f"payments {sorted(map(str, refunded))}), expected one each, the refund for PayPal"
        )


def _refunded_at_paypal(sut: ServiceUnderTest, capture_id: str) -> bool:
    capture = expect(sut.paypal().api("GET", f"/v2/payments/captures/{capture_id}"), 200)
    return bool(capture.get("status") == "REFUNDED")


def double_payment_refunded(sut: ServiceUnderTest) -> str:
    order_id = sut.new_order()["id"]
    card = sut.stripe_payment(order_id)  # the other tab, started first
    paypal = sut.paypal_payment(order_id, RETURN_URL)
    sut.paypal().next_capture(paypal.token, "PENDING")
    expect_status(returned(sut, paypal), "processing")
    intent = expect(sut.sandbox().confirm(card.client_secret, "pm_card_visa"), 200)
    if intent.get("status") != "succeeded":
        raise ScenarioFailed(f"the other tab's card payment is {intent.get('status')}")
    sut.wait_for_order(order_id, is_paid, "the card pays the order")
    (capture,) = sut.paypal().captures(paypal.token)
    capture_id = str(capture.get("id"))
    settled = sut.paypal().client.post(f"/_sandbox/captures/{capture_id}/complete")
    expect(settled, 200)
    order = _refund_done(sut, order_id)
    total: Order = order["total"]
    refunds = [(r.get("provider"), r.get("status"), r.get("amount")) for r in order["refunds"]]
    if refunds != [("paypal", "succeeded", total)]:
        raise ScenarioFailed(f"expected one succeeded PayPal refund of {total}, got {refunds}")
    if order.get("status") != "paid" or order.get("amount_paid") != total:
        raise ScenarioFailed(
            f"after the refund, amount_paid is {order.get('amount_paid')} of {total}; "
            f"{describe(order)}"
        )
    if not _refunded_at_paypal(sut, capture_id):
        raise ScenarioFailed(f"PayPal does not report capture {capture_id} refunded")
    if sut.sandbox().refunds_of(card.intent_id):
        raise ScenarioFailed("the card payment, which paid the order, was refunded")
    _audited(sut, order_id, paypal.payment_id)
    return (
        f"card paid, then PayPal's pending capture completed; PayPal refunded automatically "
        f"({total['amount']} {total['currency']} succeeded, capture REFUNDED at PayPal); "
        "amount_paid = total; audit: order.overpaid, refund.succeeded"
    )


SCENARIOS = (Scenario("double-payment-refunded", double_payment_refunded, needs_paypal=True),)
