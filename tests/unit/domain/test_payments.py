"""The payment attempt state machine, by table and by property over arbitrary report orders."""

from __future__ import annotations

from functools import reduce
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    TERMINAL_STATUSES,
    PaymentStatus,
    Transition,
    allowed_targets,
    is_terminal,
    resolve_observed,
    transition,
)

S = PaymentStatus

# The brief's table plus processing -> canceled and canceled -> succeeded (a success report
# always wins; see the payments module docstring).
EXPECTED_FORWARD = {
    S.CREATED: {S.REQUIRES_ACTION, S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CANCELED, S.UNKNOWN},
    S.UNKNOWN: {S.REQUIRES_ACTION, S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CANCELED},
    S.REQUIRES_ACTION: {S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CANCELED},
    S.PROCESSING: {S.SUCCEEDED, S.FAILED, S.CANCELED},
    S.FAILED: {S.SUCCEEDED, S.CANCELED},
    S.SUCCEEDED: set(),
    S.CANCELED: {S.SUCCEEDED},
}

# Progress, defined here independently of the implementation: how far an attempt has got.
# failed -> succeeded, failed -> canceled and canceled -> succeeded count as forward.
RANK = {
    S.CREATED: 0,
    S.UNKNOWN: 1,
    S.REQUIRES_ACTION: 2,
    S.PROCESSING: 3,
    S.FAILED: 4,
    S.CANCELED: 5,
    S.SUCCEEDED: 6,
}

STATUSES = st.sampled_from(PaymentStatus)
REPORTS = st.lists(STATUSES, max_size=12)


def replay(start: PaymentStatus, reports: list[PaymentStatus]) -> PaymentStatus:
    return reduce(lambda status, target: transition(status, target).to_status, reports, start)


def test_status_values_are_stable() -> None:
    assert [status.value for status in PaymentStatus] == [
        "created",
        "requires_action",
        "processing",
        "succeeded",
        "failed",
        "canceled",
        "unknown",
    ]


@pytest.mark.parametrize(("current", "target"), list(product(PaymentStatus, PaymentStatus)))
def test_every_pair_against_the_table(current: PaymentStatus, target: PaymentStatus) -> None:
    result = transition(current, target)
    assert result.from_status is current
    if target is current:
        assert result == Transition(False, current, current, "duplicate")
    elif target in EXPECTED_FORWARD[current]:
        assert result == Transition(True, current, target, "applied")
    else:
        assert result == Transition(False, current, current, "stale")


def test_allowed_targets_match_the_table() -> None:
    for status, targets in EXPECTED_FORWARD.items():
        assert allowed_targets(status) == targets


def test_terminal_statuses() -> None:
    assert {S.SUCCEEDED} == TERMINAL_STATUSES
    assert [status for status in PaymentStatus if is_terminal(status)] == [S.SUCCEEDED]


def test_money_received_after_a_failure_is_taken() -> None:
    assert transition(S.FAILED, S.SUCCEEDED).applied
    assert not transition(S.SUCCEEDED, S.FAILED).applied
    assert transition(S.CANCELED, S.SUCCEEDED).applied
    assert not transition(S.SUCCEEDED, S.CANCELED).applied


def test_statuses_from_storage_are_accepted_as_strings() -> None:
    result = transition("processing", "succeeded")  # type: ignore[arg-type]
    assert result.applied
    assert result.to_status is S.SUCCEEDED
    assert is_terminal("succeeded")  # type: ignore[arg-type]
    assert not is_terminal("canceled")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refunded"):
        transition(S.CREATED, "refunded")  # type: ignore[arg-type]


@given(start=st.sampled_from(sorted(TERMINAL_STATUSES)), reports=REPORTS)
def test_a_terminal_status_is_never_left(
    start: PaymentStatus, reports: list[PaymentStatus]
) -> None:
    assert replay(start, reports) is start


@given(reports=REPORTS)
def test_once_succeeded_always_succeeded(reports: list[PaymentStatus]) -> None:
    status = S.CREATED
    seen_success = False
    for target in reports:
        status = transition(status, target).to_status
        seen_success = seen_success or status is S.SUCCEEDED
        if seen_success:
            assert status is S.SUCCEEDED


@given(start=STATUSES, reports=REPORTS)
def test_replaying_reports_again_changes_nothing(
    start: PaymentStatus, reports: list[PaymentStatus]
) -> None:
    once = replay(start, reports)
    assert replay(once, reports) is once
    assert replay(start, reports + reports) is once


@given(start=STATUSES, reports=REPORTS)
def test_progress_never_goes_backwards(start: PaymentStatus, reports: list[PaymentStatus]) -> None:
    status = start
    for target in reports:
        result = transition(status, target)
        assert result.to_status is (target if result.applied else status)
        if result.applied:
            assert RANK[result.to_status] > RANK[status]
        status = result.to_status


@given(reports=st.lists(STATUSES, min_size=1, max_size=12))
def test_the_most_advanced_report_wins_whatever_the_order(
    reports: list[PaymentStatus],
) -> None:
    final = replay(S.CREATED, reports)
    assert RANK[final] == max(RANK[S.CREATED], *(RANK[report] for report in reports))
    # With success winning over cancellation, every set of reports converges.
    assert replay(S.CREATED, list(reversed(reports))) is final


@pytest.mark.parametrize("observed", list(PaymentStatus))
def test_a_provider_read_ends_unknown_whatever_it_says(observed: PaymentStatus) -> None:
    result = resolve_observed(S.UNKNOWN, observed)
    assert result.to_status is observed
    assert result.applied is (observed is not S.UNKNOWN)


@given(current=STATUSES, observed=STATUSES)
def test_a_provider_read_of_a_known_attempt_is_judged_like_an_event(
    current: PaymentStatus, observed: PaymentStatus
) -> None:
    if current is not S.UNKNOWN:
        assert resolve_observed(current, observed) == transition(current, observed)
