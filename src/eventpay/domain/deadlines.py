"""How the domain compares an instant with a deadline.

Every time-dependent rule (registration window, early-bird price, order expiry) takes the
current instant as an argument, ``now``, and compares it with a deadline through the functions
below, so that all of them share one boundary convention:

- A deadline is *exclusive*: at the deadline instant itself the deadline has passed. An
  early-bird price with a deadline of 12:00 is no longer offered at 12:00:00.000000; a window
  that closes at 18:00 is closed at 18:00.
- A start is *inclusive*: a window that opens at 09:00 is open at 09:00.

Both instants must be timezone-aware. Comparing a naive datetime with an aware one would raise a
bare ``TypeError`` deep in a rule, and comparing two naive ones would silently assume a time
zone; either is a caller's bug, so it is refused up front with ``ValueError``.

Nothing here reads the clock: the caller (a service) owns ``now``.
"""

from __future__ import annotations

from datetime import datetime


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` unchanged if it is timezone-aware, else raise ``ValueError``."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def has_passed(deadline: datetime, now: datetime) -> bool:
    """True from the deadline instant onwards (a deadline is exclusive)."""
    require_aware(deadline, "deadline")
    require_aware(now, "now")
    return now >= deadline


def is_before(now: datetime, deadline: datetime) -> bool:
    """True strictly before the deadline instant; the complement of :func:`has_passed`."""
    return not has_passed(deadline, now)


def has_started(start: datetime, now: datetime) -> bool:
    """True from the start instant onwards (a start is inclusive)."""
    require_aware(start, "start")
    require_aware(now, "now")
    return now >= start
