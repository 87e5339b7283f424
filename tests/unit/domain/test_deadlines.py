"""The one boundary convention: starts are inclusive, deadlines exclusive, instants aware."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

from eventpay.domain import has_passed, has_started, is_before, require_aware

NOON = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def test_deadline_has_passed_at_the_deadline_instant_itself() -> None:
    assert not has_passed(NOON, NOON - TICK)
    assert has_passed(NOON, NOON)
    assert has_passed(NOON, NOON + TICK)


def test_is_before_is_strict() -> None:
    assert is_before(NOON - TICK, NOON)
    assert not is_before(NOON, NOON)


def test_start_is_inclusive() -> None:
    assert not has_started(NOON, NOON - TICK)
    assert has_started(NOON, NOON)


def test_instants_in_different_zones_compare_as_instants() -> None:
    chicago_noon_in_utc_minus_6 = datetime(2027, 2, 1, 6, 0, tzinfo=timezone(-timedelta(hours=6)))
    assert has_passed(NOON, chicago_noon_in_utc_minus_6)
    assert not has_passed(NOON, chicago_noon_in_utc_minus_6 - TICK)


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: has_passed(naive, NOON),
        lambda naive: has_passed(NOON, naive),
        lambda naive: has_started(naive, NOON),
        lambda naive: has_started(NOON, naive),
        lambda naive: is_before(naive, NOON),
    ],
)
def test_naive_instants_are_refused(call: Callable[[datetime], object]) -> None:
    naive = datetime(2027, 2, 1, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        call(naive)


def test_require_aware_returns_the_value_and_refuses_non_datetimes() -> None:
    assert require_aware(NOON, "now") is NOON
    with pytest.raises(TypeError, match="now must be a datetime"):
        require_aware("2027-02-01T12:00:00Z", "now")  # type: ignore[arg-type]


def test_tzinfo_without_offset_counts_as_naive() -> None:
    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> None:
            return None

        def dst(self, dt: datetime | None) -> None:
            return None

        def tzname(self, dt: datetime | None) -> None:
            return None

    with pytest.raises(ValueError, match="timezone-aware"):
        require_aware(datetime(2027, 1, 1, tzinfo=NoOffset()), "now")
