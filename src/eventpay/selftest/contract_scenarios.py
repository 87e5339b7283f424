"""Cheap checks of the HTTP contract (API.md): what an order request may not do, and replays.

No payment happens here: each check is one to three requests about a fresh order, answered
synchronously, so these cost milliseconds and catch a broken boundary before the slower
payment scenarios would.
"""

from __future__ import annotations

import uuid

from eventpay.selftest.checks import Scenario, ScenarioFailed, expect, expect_error
from eventpay.selftest.client import (
    CLOSED_CLASS,
    CLOSED_EVENT,
    OPEN_CLASSES,
    ServiceUnderTest,
    registration,
)


def unknown_field_rejected(sut: ServiceUnderTest) -> str:
    # A client-chosen amount is the field a buyer would most like the server to trust.
    code = expect_error(sut.post_order({**registration(), "amount": 1}), 422)
    return f"order body with an amount: 422 {code}"


def closed_registration(sut: ServiceUnderTest) -> str:
    answer = sut.post_order(registration(CLOSED_EVENT, [CLOSED_CLASS]))
    code = expect_error(answer, 409, "registration_closed")
    return f"{CLOSED_EVENT}: 409 {code}"


def other_buyers_order_hidden(sut: ServiceUnderTest) -> str:
    order = sut.new_order()
    # The owner's read must work, or a 404 below would prove nothing.
    expect(sut.get_order(order["id"]), 200)
    code = expect_error(sut.get_order(order["id"], token=sut.other_buyer), 404)
    return f"owner 200, another competitor 404 {code}"


def idempotency_key_replay(sut: ServiceUnderTest) -> str:
    key = f"selftest-{uuid.uuid4()}"
    body = registration()
    first = sut.post_order(body, idempotency_key=key)
    created = expect(first, 201)
    again = sut.post_order(body, idempotency_key=key)
    if again.status_code != first.status_code or again.content != first.content:
        replayed = again.json().get("id") if again.content.startswith(b"{") else None
        raise ScenarioFailed(
            f"the replay answered {again.status_code} with another body (id {replayed}), "
            f"expected {first.status_code} and the first body (id {created.get('id')})"
        )
    other = registration(class_ids=OPEN_CLASSES[1:])
    code = expect_error(sut.post_order(other, idempotency_key=key), 422, "idempotency_key_reused")
    return f"same key and body: identical 201, same id; another body: 422 {code}"


SCENARIOS = (
    Scenario("unknown-field-rejected", unknown_field_rejected),
    Scenario("closed-registration", closed_registration),
    Scenario("other-buyers-order-hidden", other_buyers_order_hidden),
    Scenario("idempotency-key-replay", idempotency_key_replay),
)
