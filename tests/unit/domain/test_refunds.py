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
    assert [k.value for k in RefundKind] == ["overpayment", "customer", "operator", "external"]
