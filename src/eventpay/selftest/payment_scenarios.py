"""Scenarios that pay: a card that succeeds, one that is declined, 3-D Secure passed and failed.

Each pays a fresh order the way a browser does (start the attempt at the API, confirm at the
sandbox with the publishable key and client secret) and then waits for the service to learn
the outcome from the provider: the order is never paid because a client said so.
"""

from __future__ import annotations

from collections.abc import Callable

from eventpay.selftest.checks import Scenario, ScenarioFailed, expect
from eventpay.selftest.client import Order, Payment, ServiceUnderTest, payment_in

AWAITING = "awaiting_payment"


def is_paid(order: Order) -> bool:
    registrations = order.get("registrations", [])
    return (
        order.get("status") == "paid"
        and bool(registrations)
        and all(r.get("status") == "confirmed" for r in registrations)
    )


def attempt_is(payment_id: str, status: str) -> Callable[[Order], bool]:
    def holds(order: Order) -> bool:
        return payment_in(order, payment_id).get("status") == status

    return holds


def _intent_status(intent: Order, wanted: str) -> None:
    if intent.get("status") != wanted:
        raise ScenarioFailed(
            f"the sandbox left PaymentIntent {intent.get('id')} {intent.get('status')}, "
            f"expected {wanted}"
        )


def _failed_and_still_awaiting(sut: ServiceUnderTest, payment: Payment) -> str:
    """Wait for the failed attempt; the order must still be payable. Returns its failure code."""
    order = sut.wait_for_order(
        payment.order_id,
        attempt_is(payment.payment_id, "failed"),
        f"payment {payment.payment_id} failed",
    )
    if order.get("status") != AWAITING:
        raise ScenarioFailed(f"a failed attempt moved the order: {order.get('status')}")
    code = payment_in(order, payment.payment_id).get("failure_code")
    if not code:
        raise ScenarioFailed("the failed attempt shows no failure_code in the order's payments")
    return str(code)


def success(sut: ServiceUnderTest) -> str:
    payment = sut.new_payment()
    intent = expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    _intent_status(intent, "succeeded")
    sut.wait_for_order(payment.order_id, is_paid, "the order paid, registration confirmed")
    return "order paid, registration confirmed"


def declined_card(sut: ServiceUnderTest) -> str:
    payment = sut.new_payment()
    answer = sut.sandbox().confirm(payment.client_secret, "pm_card_chargeDeclined")
    error = expect(answer, 402).get("error") or {}
    decline_code = error.get("decline_code")
    if error.get("type") != "card_error" or not decline_code:
        raise ScenarioFailed(f"the sandbox's decline is not a card error: {error}")
    code = _failed_and_still_awaiting(sut, payment)
    if code != decline_code:
        raise ScenarioFailed(f"the attempt's failure_code is {code}, the card's was {decline_code}")
    return f"card_error {decline_code}; attempt failed, order {AWAITING}"


def _challenged(sut: ServiceUnderTest) -> tuple[Payment, str]:
    """A fresh payment waiting at the 3-D Secure challenge, and the challenge's URL."""
    payment = sut.new_payment()
    answer = sut.sandbox().confirm(payment.client_secret, "pm_card_authenticationRequired")
    intent = expect(answer, 200)
    _intent_status(intent, "requires_action")
    action = intent.get("next_action") or {}
    url = (action.get("use_stripe_sdk") or {}).get("stripe_js")
    if action.get("type") != "use_stripe_sdk" or not isinstance(url, str):
        raise ScenarioFailed(f"requires_action without a challenge to follow: {action}")
    sut.wait_for_order(
        payment.order_id,
        attempt_is(payment.payment_id, "requires_action"),
        f"payment {payment.payment_id} requires_action",
    )
    return payment, url


def challenge_completed(sut: ServiceUnderTest) -> str:
    payment, url = _challenged(sut)
    intent = expect(sut.sandbox().finish_challenge(url, succeed=True), 200)
    _intent_status(intent, "succeeded")
    sut.wait_for_order(payment.order_id, is_paid, "the order paid, registration confirmed")
    return "requires_action, challenge completed, order paid"


def challenge_failed(sut: ServiceUnderTest) -> str:
    payment, url = _challenged(sut)
    intent = expect(sut.sandbox().finish_challenge(url, succeed=False), 200)
    _intent_status(intent, "requires_payment_method")
    code = _failed_and_still_awaiting(sut, payment)
    return f"requires_action, challenge failed; attempt failed ({code}), order {AWAITING}"


SCENARIOS = (
    Scenario("success", success),
    Scenario("declined-card", declined_card),
    Scenario("3ds-challenge-completed", challenge_completed),
    Scenario("3ds-challenge-failed", challenge_failed),
)
