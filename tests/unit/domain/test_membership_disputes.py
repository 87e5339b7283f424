"""A membership charge's dispute status only moves forward: a late update never reopens a
dispute that was won, lost or closed."""

from __future__ import annotations

from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain.membership_disputes import FINAL_DISPUTE_STATUSES, dispute_status_after

OPEN = ["warning_needs_response", "warning_under_review", "needs_response", "under_review"]
STATUSES = [*OPEN, *sorted(FINAL_DISPUTE_STATUSES), "some_future_status"]


def test_a_late_update_does_not_reopen_a_lost_dispute() -> None:
    # Found in review: a late charge.dispute.updated (needs_response) overwrote lost.
    assert dispute_status_after("lost", "needs_response") == "lost"
    assert dispute_status_after("won", "under_review") == "won"
    assert dispute_status_after("warning_closed", "warning_needs_response") == "warning_closed"
    assert dispute_status_after("won", "lost") == "won"


def test_an_open_dispute_moves_forward_only() -> None:
    assert dispute_status_after(None, "needs_response") == "needs_response"
    assert dispute_status_after("needs_response", "under_review") == "under_review"
    assert dispute_status_after("under_review", "needs_response") == "under_review"
    assert dispute_status_after("warning_under_review", "needs_response") == "needs_response"
    assert dispute_status_after("under_review", "lost") == "lost"
    assert dispute_status_after("some_future_status", "needs_response") == "needs_response"
    assert dispute_status_after("under_review", "some_future_status") == "under_review"


@given(st.lists(st.sampled_from(STATUSES), min_size=1))
def test_the_first_final_status_reported_is_kept_whatever_follows(reported: list[str]) -> None:
    kept = reduce(dispute_status_after, reported, None)
    finals = [status for status in reported if status in FINAL_DISPUTE_STATUSES]
    if finals:
        assert kept == finals[0]
    else:
        assert kept in reported
        # Never an earlier stage than the furthest known open stage reported.
        known = [OPEN.index(s) for s in reported if s in OPEN]
        if known:
            assert kept in OPEN
            assert OPEN.index(kept) == max(known)
