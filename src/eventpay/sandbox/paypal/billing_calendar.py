"""When a subscription bills: billing periods on the calendar, from a plan's billing cycles.

A billing cycle (TRIAL or REGULAR, in sequence order) bills `total_cycles` periods (0: for
ever) of `interval_count` `interval_unit`s each. The n-th period of a run starts at
`anchor + n * interval`, always counted from the anchor, so monthly dates do not drift: a
subscription that started on 31 January bills on 29 February (or the 28th), then 31 March.
The anchor is where the current cycle began, or where a reactivated subscription resumed.
Pure functions; no state, no clock reads.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from . import money
from .billing_records import JSON, SubscriptionRecord


def add_interval(anchor: datetime, unit: str, count: int, times: int) -> datetime:
    """`anchor` moved on by `times` intervals of `count` `unit`s (DAY, WEEK, MONTH, YEAR)."""
    steps = count * times
    if unit == "DAY":
        return anchor + timedelta(days=steps)
    if unit == "WEEK":
        return anchor + timedelta(weeks=steps)
    months = steps * (12 if unit == "YEAR" else 1)
    if unit not in ("MONTH", "YEAR"):
        raise ValueError(f"unknown interval unit {unit!r}")
    total = anchor.month - 1 + months
    year, month = anchor.year + total // 12, total % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def current_cycle(record: SubscriptionRecord, plan: JSON) -> JSON | None:
    cycles: list[JSON] = plan["billing_cycles"]
    return cycles[record.cycle_index] if record.cycle_index < len(cycles) else None


def next_due(record: SubscriptionRecord, plan: JSON) -> datetime | None:
    """When the next period starts; None before activation or once nothing is left to bill."""
    cycle = current_cycle(record, plan)
    if cycle is None or record.anchor is None:
        return None
    frequency = cycle["frequency"]
    unit, count = str(frequency["interval_unit"]), int(frequency["interval_count"])
    return add_interval(record.anchor, unit, count, record.periods)


def price_minor(cycle: JSON) -> int:
    """The cycle's price in minor units (0 for a free trial)."""
    scheme = cycle.get("pricing_scheme")
    if not scheme:
        return 0
    fixed = scheme["fixed_price"]
    return money.parse(fixed["value"], fixed["currency_code"])
