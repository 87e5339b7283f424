"""Reading Stripe's objects and events: Stripe's units converted, malformed answers unknown.

Answers are Stripe's own example objects (fixtures3.json) changed field by field. The old
adapter read `intent["amount"]` as our minor units (a 5 ISK intent, `amount: 500`, read as
500 ISK) and raised KeyError/TypeError out of the adapter on an answer without an amount.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import ProviderOutcomeUnknown
from eventpay.providers.stripe import StripeProvider, stripe_client
from eventpay.providers.stripe_objects import to_payment, to_refund

FACTS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


@cache
def _example(kind: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((FACTS / "stripe" / "fixtures3.json").read_text())[
        "resources"
    ][kind]
    return found


def _intent(**changes: Any) -> dict[str, Any]:
    intent = copy.deepcopy(_example("payment_intent"))
    intent.update(changes)
    return intent


def _provider() -> StripeProvider:
    # No request is made: only the readers are used.
    return StripeProvider(
        stripe_client(secret_key="sk_test_x", api_base="http://127.0.0.1:9", timeout_s=1)
    )


def _event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_1", "object": "event", "type": event_type, "data": {"object": obj}}


@pytest.mark.parametrize(
    ("currency", "amount", "ours"),
    [("jpy", 4500, 4500), ("isk", 500, 5), ("kwd", 1230, 1230), ("eur", 4550, 4550)],
)
def test_events_convert_stripe_units(currency: str, amount: int, ours: int) -> None:
    intent = _intent(currency=currency, amount=amount, amount_received=amount, status="succeeded")
    update = _provider().parse_event("payment_intent.succeeded", _event("x", intent))
    assert update is not None
    assert update.amount == Money(ours, currency)
    assert update.amount_received == ours


def test_refund_answers_and_events_convert_stripe_units() -> None:
    refund = copy.deepcopy(_example("refund"))
    refund.update(amount=300, currency="isk", metadata={"refund_id": "ours-1"})
    assert to_refund(refund).amount == Money(3, "isk")
    assert to_refund(refund).refund_id_hint == "ours-1"
    update = _provider().parse_refund_event("refund.updated", _event("refund.updated", refund))
    assert update is not None
    assert update.amount == Money(3, "isk")


def test_a_payment_answer_reads_whole() -> None:
    paid = to_payment(_intent(status="succeeded", amount=2000, amount_received=2000))
    assert (paid.status, paid.amount, paid.amount_received) == (
        PaymentStatus.SUCCEEDED,
        Money(2000, "usd"),
        2000,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"amount": None},
        {"amount": "2000"},
        {"currency": None},
        {"currency": "xxx"},
        {"status": "exploded"},
        {"currency": "isk", "amount": 550},
        {"amount_received": "2000"},
    ],
)
def test_malformed_payment_answers_are_unknown_outcomes(changes: dict[str, Any]) -> None:
    with pytest.raises(ProviderOutcomeUnknown) as caught:
        to_payment(_intent(**changes))
    assert caught.value.code == "provider_malformed_answer"


def test_malformed_refund_answers_and_events_are_unknown_outcomes() -> None:
    refund = copy.deepcopy(_example("refund"))
    del refund["amount"]
    with pytest.raises(ProviderOutcomeUnknown) as answer:
        to_refund(refund)
    with pytest.raises(ProviderOutcomeUnknown) as event:
        _provider().parse_event("payment_intent.succeeded", {"data": {"object": {"id": 3}}})
    with pytest.raises(ProviderOutcomeUnknown) as no_data:
        _provider().parse_event("payment_intent.succeeded", {"type": "x"})
    codes = {answer.value.code, event.value.code, no_data.value.code}
    assert codes == {"provider_malformed_answer"}
