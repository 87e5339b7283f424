"""When unfinished work is looked at again, and when a request may be repeated blind.

Three timing rules the janitor and the webhook worker follow, kept pure (``now`` and any
randomness are passed in):

- ``next_check_at``: an item the provider has not settled yet (an unknown payment, a refund
  not sent or still pending) is checked again after 1 minute, 5 minutes, 1 hour, then daily,
  counting the checks that settled nothing. Each item stores its own next check, so the
  janitor selects exactly the items that are due, oldest due first.
- ``may_resend_blind``: a provider keeps an idempotency key only for a while (Stripe about 24
  hours). Inside that window a lost answer is recovered by repeating the request with the same
  key; outside it, the repeat could make a second refund or charge, so the provider must be
  read first. A margin inside the window covers the clocks of both sides.
- ``backoff_delay``: exponential backoff with jitter for retried work (webhook events), so
  that many items failing together do not all come back at the same instant.

What must not live here: clocks, random number generators, storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from eventpay.domain.deadlines import require_aware
from eventpay.domain.payments import PaymentStatus

CHECK_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(hours=1),
    timedelta(days=1),
)
"""The default delays before the 1st, 2nd, 3rd and every later re-check of an item."""

_MAX_MARGIN = timedelta(hours=1)


def next_check_at(
    *, now: datetime, checks_done: int, schedule: Sequence[timedelta] = CHECK_SCHEDULE
) -> datetime:
    """When to check an item again after its ``checks_done``-th check that settled nothing
    (1 for the first): ``schedule[0]`` after the first, and so on.

    The last delay of ``schedule`` repeats for ever: an item is never dropped, only looked at
    less often (a person sees it in the audit log and the metrics).
    """
    require_aware(now, "now")
    if checks_done < 1:
        raise ValueError(f"checks_done counts the checks made, at least 1, got {checks_done}")
    if not schedule or any(delay <= timedelta(0) for delay in schedule):
        raise ValueError("a check schedule needs at least one positive delay")
    return now + schedule[min(checks_done, len(schedule)) - 1]


_DUE_AT_ONCE = frozenset({PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING, PaymentStatus.FAILED})


def first_check_at(
    status: PaymentStatus, *, now: datetime, schedule: Sequence[timedelta] = CHECK_SCHEDULE
) -> datetime:
    """When an attempt that just reached ``status`` is first due for the janitor.

    At once when it needs us: an unknown outcome to read, approved money to capture, a failed
    attempt beside a success to close. Otherwise after the first delay: a new attempt whose
    create call may still be in flight, an attempt waiting for its buyer.
    """
    if PaymentStatus(status) in _DUE_AT_ONCE:
        require_aware(now, "now")
        return now
    return next_check_at(now=now, checks_done=1, schedule=schedule)


def resend_margin(window: timedelta) -> timedelta:
    """How far inside a key window a blind repeat stops: a quarter of it, at most an hour."""
    return min(window / 4, _MAX_MARGIN)


def may_resend_blind(*, first_sent: datetime, now: datetime, window: timedelta) -> bool:
    """Whether a request first sent at ``first_sent`` may be repeated under the same key
    without reading the provider first: only while its key is surely still remembered."""
    require_aware(first_sent, "first_sent")
    require_aware(now, "now")
    if window <= timedelta(0):
        return False
    return now - first_sent < window - resend_margin(window)


def backoff_delay(*, attempts: int, base: timedelta, cap: timedelta, jitter: float) -> timedelta:
    """The wait before retry number ``attempts + 1`` ("equal jitter").

    The exponential step ``min(cap, base * 2**(attempts-1))`` is split in half: one half is
    always waited, the other scaled by ``jitter`` (a random number in [0, 1) the caller draws),
    so retries spread out but never come back at once.
    """
    if not 0.0 <= jitter < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    if base <= timedelta(0) or cap < base:
        raise ValueError("backoff needs 0 < base <= cap")
    # Doubling stops after 32 steps: far past any cap, and timedelta cannot overflow.
    step: timedelta = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    half = step / 2
    return half + half * jitter
