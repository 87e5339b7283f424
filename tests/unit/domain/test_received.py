"""What a payment brought in: counted amount, a differing provider amount, over-payment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    Money,
    PaymentStatus,
    counted_amount,
    judge_reported_amount,
    size_overpayment,
    summarize,
)
from eventpay.domain.orders import AttemptAmount

from .builders import usd


def test_the_provider_received_amount_is_the_truth() -> None:
    assert counted_amount(requested=5000, received=None) == 5000
    assert counted_amount(requested=5000, received=100) == 100
    assert counted_amount(requested=5000, received=0) == 0


def test_the_same_amount_is_no_mismatch() -> None:
    judged = judge_reported_amount(expected=usd(5000), reported=usd(5000), received=5000)
    assert (judged.received, judged.mismatch) == (5000, False)
    silent = judge_reported_amount(expected=usd(5000), reported=None, received=None)
    assert (silent.received, silent.mismatch) == (None, False)


def test_money_in_another_currency_never_counts() -> None:
    judged = judge_reported_amount(expected=usd(5000), reported=Money(5000, "eur"), received=5000)
    assert (judged.received, judged.mismatch) == (0, True)


def test_a_different_amount_counts_as_what_it_is_and_is_reported() -> None:
    less = judge_reported_amount(expected=usd(5000), reported=usd(100), received=None)
    assert (less.received, less.mismatch) == (100, True)
    more = judge_reported_amount(expected=usd(5000), reported=usd(9000), received=9000)
    assert (more.received, more.mismatch) == (9000, True)


def _summary(total: int, *payments: int) -> object:
    return summarize(
        total=usd(total),
        payments=[AttemptAmount(PaymentStatus.SUCCEEDED, usd(p)) for p in payments],
        refunds=[],
    )


def test_a_second_full_payment_goes_back_whole() -> None:
    over = size_overpayment(received=usd(5000), summary=_summary(5000, 5000, 5000))  # type: ignore[arg-type]
    assert (over.excess, over.order_was_paid) == (usd(5000), True)


def test_a_payment_that_completes_the_order_returns_only_the_excess() -> None:
    over = size_overpayment(received=usd(4000), summary=_summary(5000, 2000, 4000))  # type: ignore[arg-type]
    assert (over.excess, over.order_was_paid) == (usd(1000), False)
    exact = size_overpayment(received=usd(3000), summary=_summary(5000, 2000, 3000))  # type: ignore[arg-type]
    assert (exact.excess, exact.order_was_paid) == (usd(0), False)


def test_only_this_payments_money_and_currency_can_be_sized() -> None:
    with pytest.raises(ValueError, match="non-negative usd"):
        size_overpayment(received=Money(100, "eur"), summary=_summary(5000, 5000))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative usd"):
        size_overpayment(received=usd(-1), summary=_summary(5000, 5000))  # type: ignore[arg-type]


@given(
    total=st.integers(min_value=0, max_value=10**6),
    earlier=st.lists(st.integers(min_value=0, max_value=10**6), max_size=4),
    this=st.integers(min_value=0, max_value=10**6),
)
def test_the_excess_is_never_more_than_this_payment_nor_the_overpayment(
    total: int, earlier: list[int], this: int
) -> None:
    summary = _summary(total, *earlier, this)
    over = size_overpayment(received=usd(this), summary=summary)  # type: ignore[arg-type]
    assert usd(0) <= over.excess <= usd(this)
    assert over.excess.amount <= max(sum(earlier) + this - total, 0)
    assert over.order_was_paid is (sum(earlier) >= total)
