"""The janitor's schedule, the idempotency-key window rule, and backoff with jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    CHECK_SCHEDULE,
    PaymentStatus,
    backoff_delay,
    first_check_at,
    may_resend_blind,
    next_check_at,
    resend_margin,
)

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("checks", "delay"),
    [
        (1, timedelta(minutes=1)),
        (2, timedelta(minutes=5)),
        (3, timedelta(hours=1)),
        (4, timedelta(days=1)),
        (5, timedelta(days=1)),
        (500, timedelta(days=1)),
    ],
)
def test_checks_back_off_to_daily_and_never_stop(checks: int, delay: timedelta) -> None:
    assert next_check_at(now=NOW, checks_done=checks) == NOW + delay


def test_a_schedule_is_configurable() -> None:
    schedule = (timedelta(seconds=5), timedelta(seconds=30))
    assert next_check_at(now=NOW, checks_done=1, schedule=schedule) == NOW + schedule[0]
    assert next_check_at(now=NOW, checks_done=9, schedule=schedule) == NOW + schedule[1]


@pytest.mark.parametrize(
    ("checks", "schedule"),
    [(0, CHECK_SCHEDULE), (-1, CHECK_SCHEDULE), (1, ()), (1, (timedelta(0),))],
)
def test_bad_schedules_are_refused(checks: int, schedule: tuple[timedelta, ...]) -> None:
    with pytest.raises(ValueError, match=r"checks_done|schedule"):
        next_check_at(now=NOW, checks_done=checks, schedule=schedule)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        next_check_at(now=NOW.replace(tzinfo=None), checks_done=1)
    with pytest.raises(ValueError, match="now"):
        first_check_at(PaymentStatus.UNKNOWN, now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize("status", list(PaymentStatus))
def test_what_needs_us_is_due_at_once_the_rest_after_a_minute(status: PaymentStatus) -> None:
    at_once = {PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING, PaymentStatus.FAILED}
    expected = NOW if status in at_once else NOW + timedelta(minutes=1)
    assert first_check_at(status, now=NOW) == expected


STRIPE_WINDOW = timedelta(hours=24)


@pytest.mark.parametrize(
    ("age", "blind"),
    [
        (timedelta(0), True),
        (timedelta(hours=22, minutes=59), True),
        (timedelta(hours=23), False),  # the last hour of the window is not trusted
        (timedelta(hours=24), False),
        (timedelta(days=30), False),
    ],
)
def test_a_request_is_repeated_blind_only_well_inside_the_key_window(
    age: timedelta, blind: bool
) -> None:
    assert may_resend_blind(first_sent=NOW - age, now=NOW, window=STRIPE_WINDOW) is blind


def test_the_margin_is_a_quarter_of_a_short_window() -> None:
    assert resend_margin(timedelta(hours=2)) == timedelta(minutes=30)
    assert resend_margin(timedelta(days=45)) == timedelta(hours=1)
    assert not may_resend_blind(first_sent=NOW, now=NOW, window=timedelta(0))
    with pytest.raises(ValueError, match="first_sent"):
        may_resend_blind(first_sent=NOW.replace(tzinfo=None), now=NOW, window=STRIPE_WINDOW)


@given(
    attempts=st.integers(min_value=0, max_value=60),
    jitter=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_waits_at_least_half_the_step_and_at_most_the_cap(
    attempts: int, jitter: float
) -> None:
    base, cap = timedelta(seconds=2), timedelta(hours=1)
    step = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    delay = backoff_delay(attempts=attempts, base=base, cap=cap, jitter=jitter)
    assert step / 2 <= delay <= step <= cap


def test_jitter_spreads_retries_that_failed_together() -> None:
    base, cap = timedelta(seconds=2), timedelta(hours=1)
    delays = {backoff_delay(attempts=3, base=base, cap=cap, jitter=j / 10) for j in range(10)}
    assert len(delays) == 10
    assert min(delays) == timedelta(seconds=4)


@pytest.mark.parametrize(
    ("base", "cap", "jitter"),
    [
        (timedelta(seconds=2), timedelta(seconds=1), 0.5),
        (timedelta(0), timedelta(seconds=1), 0.5),
        (timedelta(seconds=1), timedelta(seconds=2), 1.0),
        (timedelta(seconds=1), timedelta(seconds=2), -0.1),
    ],
)
def test_bad_backoff_settings_are_refused(base: timedelta, cap: timedelta, jitter: float) -> None:
    with pytest.raises(ValueError, match=r"jitter|backoff"):
        backoff_delay(attempts=1, base=base, cap=cap, jitter=jitter)
