"""Scenarios of refunds people ask for: a withdrawal under the published terms, and a refused one.

The sample "Spring Sound-Off" refunds everything until 14 days before it starts, so a paid
order quoted today comes back whole: the quote says so and why, the request returns it at once
(the registration is cancelled), Stripe holds exactly that refund, and a second request finds
nothing left. Asking for store credit, not offered yet, is a clear 422 that moves nothing.
"""

from __future__ import annotations

import json

from eventpay.selftest.checks import Scenario, ScenarioFailed, expect
from eventpay.selftest.client import Order, ServiceUnderTest, describe, intent_id
from eventpay.selftest.payment_scenarios import is_paid


def _paid_order(sut: ServiceUnderTest) -> tuple[Order, str]:
    payment = sut.new_payment()
    expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    order = sut.wait_for_order(payment.order_id, is_paid, "the order paid")
    return order, intent_id(payment.client_secret)


def _ask(sut: ServiceUnderTest, order_id: str, body: dict[str, object]) -> Order:
    response = sut.api.post(
        f"/v1/orders/{order_id}/refunds",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {sut.buyer}", "Content-Type": "application/json"},
    )
    return {"status_code": response.status_code, "body": response.json()}


def withdrawal_refunded(sut: ServiceUnderTest) -> str:
    order, pi_id = _paid_order(sut)
    total = order["total"]
    quote = expect(
        sut.api.get(
            f"/v1/orders/{order['id']}/refund-quote",
            headers={"Authorization": f"Bearer {sut.buyer}"},
        ),
        200,
    )
    if quote.get("rule") != "full_before_cutoff" or quote.get("refundable") != total:
        raise ScenarioFailed(f"the quote is {quote.get('rule')} {quote.get('refundable')}")
    answer = _ask(sut, order["id"], {"reason": "selftest withdrawal"})
    refund = answer["body"]
    if answer["status_code"] != 201 or refund.get("status") != "succeeded":
        raise ScenarioFailed(f"the refund request answered {answer['status_code']}: {refund}")
    after = sut.order(order["id"])
    registrations = {r.get("status") for r in after.get("registrations", [])}
    if after.get("status") != "refunded" or registrations != {"cancelled"}:
        raise ScenarioFailed(f"after the refund: {describe(after)}, registrations {registrations}")
    at_stripe = [r.get("amount") for r in sut.sandbox().refunds_of(pi_id)]
    if at_stripe != [total["amount"]]:
        raise ScenarioFailed(f"Stripe holds refunds {at_stripe}, expected [{total['amount']}]")
    again = _ask(sut, order["id"], {"reason": "selftest twice"})
    code = (again["body"].get("error") or {}).get("code")
    if again["status_code"] != 409 or code != "nothing_to_refund":
        raise ScenarioFailed(f"a second request answered {again['status_code']} {code}")
    return f"quoted and refunded {total['amount']} {total['currency']}; a second ask is 409"


def credit_not_offered(sut: ServiceUnderTest) -> str:
    order, pi_id = _paid_order(sut)
    answer = _ask(sut, order["id"], {"reason": "selftest", "method": "credit"})
    code = (answer["body"].get("error") or {}).get("code")
    if answer["status_code"] != 422 or code != "refund_method_unavailable":
        raise ScenarioFailed(f"asking for credit answered {answer['status_code']} {code}")
    after = sut.order(order["id"])
    if not is_paid(after) or after.get("refunds") or sut.sandbox().refunds_of(pi_id):
        raise ScenarioFailed(f"refused, yet something moved: {describe(after)}")
    return "422 refund_method_unavailable; nothing refunded"


SCENARIOS = (
    Scenario("refund-withdrawal-before-cutoff", withdrawal_refunded),
    Scenario("refund-credit-not-offered", credit_not_offered),
)
