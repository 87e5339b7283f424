"""Sponsor packages: what a sponsorship's payments make of it, and the platform's share.

A sponsorship is invoiced for its package's price; the sponsor may pay in parts. Its status
follows from what has been paid (``status_after``), and each payment carries its slice of the
platform fee (``fee_slice``): the slices of all payments add up to exactly the fee on the whole
price, whatever the parts were, because each slice is the difference of two floors of the
same proportion.

What must not live here: storage, provider calls, clock reads.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class SponsorKind(StrEnum):
    TITLE = "title"
    CLASS = "class"
    BOOTH = "booth"


class SponsorshipStatus(StrEnum):
    INVOICED = "invoiced"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"
    OVERDUE = "overdue"


UNPAID = frozenset(
    {SponsorshipStatus.INVOICED, SponsorshipStatus.PARTIALLY_PAID, SponsorshipStatus.OVERDUE}
)


def status_after(
    current: SponsorshipStatus, *, amount: int, paid: int, overdue: bool = False
) -> SponsorshipStatus:
    """The status once ``paid`` of ``amount`` (minor units) has been received."""
    if current is SponsorshipStatus.CANCELLED and paid < amount:
        return current
    if paid >= amount:
        return SponsorshipStatus.PAID
    if overdue or current is SponsorshipStatus.OVERDUE:
        return SponsorshipStatus.OVERDUE
    if paid > 0:
        return SponsorshipStatus.PARTIALLY_PAID
    return SponsorshipStatus.INVOICED


def is_overdue(status: SponsorshipStatus, due_date: date, today: date) -> bool:
    """Unpaid after its due date (or flagged so by the provider)."""
    return status is SponsorshipStatus.OVERDUE or (status in UNPAID and due_date < today)


def fee_slice(*, fee: int, amount: int, paid_before: int, paid_after: int) -> int:
    """The platform's part of a payment that took the paid total from ``paid_before`` to
    ``paid_after`` (rounded down at each step, so the slices sum to ``fee`` when all is paid)."""
    if amount <= 0:
        return 0
    before = min(paid_before, amount)
    after = min(paid_after, amount)
    return fee * after // amount - fee * before // amount
