"""Refund attempt transitions: forward only, succeeded may still fail, duplicates do nothing."""

from __future__ import annotations

from functools import reduce
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import RefundKind, RefundStatus, combined_refund_status, refund_transition
from eventpay.domain.payments import TransitionOutcome

R = RefundStatus
FORWARD = {
    R.PENDING: {R.SUCCEEDED, R.FAILED, R.CANCELED},
    R.SUCCEEDED: {R.FAILED},
    R.FAILED: set(),
    R.CANCELED: set(),
}


@pytest.mark.parametrize(("current", "target"), list(product(RefundStatus, RefundStatus)))
def test_every_pair(current: RefundStatus, target: RefundStatus) -> None:
    result = refund_transition(current, target)
    assert result.from_status is current
    if target is current:
        assert (result.applied, result.outcome) == (False, TransitionOutcome.DUPLICATE)
        assert result.to_status is current
    elif target in FORWARD[current]:
        assert (result.applied, result.outcome, result.to_status) == (
            True,
            TransitionOutcome.APPLIED,
            target,
        )
    else:
        assert (result.applied, result.outcome, result.to_status) == (
            False,
            TransitionOutcome.STALE,
            current,
        )


def test_statuses_from_storage_are_accepted_as_strings() -> None:
    assert refund_transition("pending", "succeeded").applied  # type: ignore[arg-type]


@given(st.lists(st.sampled_from(RefundStatus), max_size=10))
def test_replaying_reports_changes_nothing(reports: list[RefundStatus]) -> None:
    def step(status: RefundStatus, target: RefundStatus) -> RefundStatus:
        return refund_transition(status, target).to_status

    once = reduce(step, reports, R.PENDING)
    assert reduce(step, reports, once) is once


_S = RefundStatus


@pytest.mark.parametrize(
    ("parts", "combined"),
    [
        ([_S.SUCCEEDED], _S.SUCCEEDED),
        ([_S.SUCCEEDED, _S.SUCCEEDED], _S.SUCCEEDED),
        ([_S.SUCCEEDED, _S.PENDING], _S.PENDING),
        ([_S.FAILED, _S.PENDING], _S.PENDING),
        ([_S.SUCCEEDED, _S.FAILED], _S.FAILED),
        ([_S.CANCELED], _S.FAILED),
        (["succeeded", "canceled"], _S.FAILED),
    ],
)
def test_a_split_refund_has_one_status(parts: list[RefundStatus], combined: RefundStatus) -> None:
    assert combined_refund_status(parts) is combined


def test_a_refund_without_parts_has_no_status() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        combined_refund_status([])


def test_refund_kinds_are_stable_storage_values() -> None:
    assert [k.value for k in RefundKind] == [
        "overpayment",
        "customer",
        "operator",
        "external",
        "sold_out",
    ]


# ---------------------------------------------------------------------------- ceilings

from eventpay.domain import (  # noqa: E402
    Money,
    PaymentFunds,
    held_by_payment,
    refund_ceiling,
    refundable_of,
    withdrawal_settled,
)
from eventpay.domain.orders import RefundAmount  # noqa: E402


def _usd(amount: int) -> Money:
    return Money(amount, "usd")


def test_pending_and_succeeded_refunds_take_from_a_payment_failed_ones_do_not() -> None:
    funds = PaymentFunds(
        payment_id="p1",
        received=_usd(5000),
        refunds=(
            RefundAmount(R.SUCCEEDED, _usd(1000)),
            RefundAmount(R.PENDING, _usd(500)),
            RefundAmount(R.FAILED, _usd(2000)),
            RefundAmount(R.CANCELED, _usd(2000)),
        ),
    )
    assert refundable_of(funds) == _usd(3500)
    assert held_by_payment([funds, PaymentFunds("p2", _usd(100))]) == [
        ("p1", _usd(3500)),
        ("p2", _usd(100)),
    ]


def test_a_payment_never_has_less_than_nothing_to_return() -> None:
    funds = PaymentFunds("p1", _usd(100), (RefundAmount(R.SUCCEEDED, _usd(300)),))
    assert refundable_of(funds) == _usd(0)


def test_a_competitor_gets_the_terms_an_operator_anything_held() -> None:
    assert refund_ceiling(by_terms=_usd(4000), held=_usd(5000), by_operator=False) == _usd(4000)
    assert refund_ceiling(by_terms=_usd(4000), held=_usd(3000), by_operator=False) == _usd(3000)
    assert refund_ceiling(by_terms=_usd(4000), held=_usd(5000), by_operator=True) == _usd(5000)


K = RefundKind


@pytest.mark.parametrize(
    ("refunds", "settled"),
    [
        ([], False),
        ([(K.CUSTOMER, R.PENDING, "w1")], False),  # the money is not back yet: places kept
        ([(K.CUSTOMER, R.FAILED, "w1")], False),  # refused: the competitor keeps the place
        ([(K.CUSTOMER, R.SUCCEEDED, "w1")], True),
        ([(K.CUSTOMER, R.FAILED, "w1"), (K.CUSTOMER, R.SUCCEEDED, "w2")], True),  # asked again
        # One request split over two payments: one part refused, so not withdrawn.
        ([(K.CUSTOMER, R.SUCCEEDED, "w1"), (K.CUSTOMER, R.FAILED, "w1")], False),
        ([(K.CUSTOMER, R.SUCCEEDED, "w1"), (K.CUSTOMER, R.PENDING, "w1")], False),
        ([(K.CUSTOMER, R.SUCCEEDED, "w1"), (K.CUSTOMER, R.SUCCEEDED, "w1")], True),
        ([(K.CUSTOMER, R.SUCCEEDED, None), (K.CUSTOMER, R.FAILED, None)], True),  # no request id
        ([(K.OPERATOR, R.SUCCEEDED, None), (K.EXTERNAL, R.SUCCEEDED, None)], False),
        ([(K.OVERPAYMENT, R.SUCCEEDED, None), (K.CUSTOMER, R.SUCCEEDED, "w1")], True),
    ],
)
def test_a_withdrawal_releases_places_only_once_every_part_of_it_succeeded(
    refunds: list[tuple[RefundKind, RefundStatus, str | None]], settled: bool
) -> None:
    assert withdrawal_settled(refunds) is settled
