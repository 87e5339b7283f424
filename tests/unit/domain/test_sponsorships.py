"""Sponsorships: status from what was paid, overdue, and fee slices that add up exactly."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain.sponsorships import (
    SponsorshipStatus,
    fee_slice,
    is_overdue,
    status_after,
)

S = SponsorshipStatus


@pytest.mark.parametrize(
    ("current", "paid", "overdue", "expected"),
    [
        (S.INVOICED, 0, False, S.INVOICED),
        (S.INVOICED, 400, False, S.PARTIALLY_PAID),
        (S.PARTIALLY_PAID, 1000, False, S.PAID),
        (S.INVOICED, 1200, False, S.PAID),  # more than asked is still paid
        (S.INVOICED, 400, True, S.OVERDUE),
        (S.OVERDUE, 400, False, S.OVERDUE),
        (S.OVERDUE, 1000, False, S.PAID),
        (S.CANCELLED, 400, False, S.CANCELLED),
        (S.CANCELLED, 1000, False, S.PAID),  # money received wins over a cancellation
    ],
)
def test_the_status_follows_what_was_paid(
    current: SponsorshipStatus, paid: int, overdue: bool, expected: SponsorshipStatus
) -> None:
    assert status_after(current, amount=1000, paid=paid, overdue=overdue) is expected


def test_overdue_is_unpaid_after_the_due_date_or_flagged() -> None:
    due, today = date(2027, 3, 1), date(2027, 3, 2)
    assert is_overdue(S.INVOICED, due, today)
    assert is_overdue(S.PARTIALLY_PAID, due, today)
    assert not is_overdue(S.INVOICED, due, due)
    assert not is_overdue(S.PAID, due, today)
    assert not is_overdue(S.CANCELLED, due, today)
    assert is_overdue(S.OVERDUE, today, due)


@given(
    fee=st.integers(min_value=0, max_value=100_000),
    amount=st.integers(min_value=1, max_value=10_000_000),
    cuts=st.lists(st.floats(min_value=0, max_value=1), min_size=0, max_size=5),
)
def test_the_fee_slices_of_any_part_payments_add_up_to_the_fee(
    fee: int, amount: int, cuts: list[float]
) -> None:
    points = sorted({0, amount, *(int(amount * c) for c in cuts)})
    slices = [
        fee_slice(fee=fee, amount=amount, paid_before=a, paid_after=b)
        for a, b in itertools.pairwise(points)
    ]
    assert sum(slices) == fee
    assert all(s >= 0 for s in slices)


def test_a_free_package_has_no_fee_and_an_overpayment_no_more() -> None:
    assert fee_slice(fee=50, amount=0, paid_before=0, paid_after=10) == 0
    assert fee_slice(fee=50, amount=1000, paid_before=1000, paid_after=1500) == 0
