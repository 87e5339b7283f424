"""What a payment brought in: the counted amount, a provider's differing amount, over-payment.

A provider's word about a payment carries its own amount and currency; ours was computed from
the catalog. Three rules decide what counts, each in one place:

- ``counted_amount``: a succeeded attempt counts what the provider says arrived, if it said;
  our requested amount otherwise. A success for less than asked (a tampered or misconfigured
  intent) must not pay the order.
- ``judge_reported_amount``: money in another currency never counts; a different amount in
  the right currency counts as what it is (less: the order stays unpaid; more: an over-payment
  to return). Either way the difference is a ``mismatch`` a person is told about.
- ``size_overpayment``: when a payment succeeds, how much of it goes back because the order
  had received enough already, and whether the order was already paid before it.

What must not live here: provider names, storage, audit.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventpay.domain.money import Money
from eventpay.domain.orders import PaymentSummary


def counted_amount(*, requested: int, received: int | None) -> int:
    """What a succeeded attempt contributes: ``received`` when the provider said, else ours."""
    return requested if received is None else received


@dataclass(frozen=True, slots=True)
class ReportedAmount:
    """The amount to record as received (None: the provider did not say) and whether the
    provider's amount differs from the one we asked for."""

    received: int | None
    mismatch: bool


def judge_reported_amount(
    *, expected: Money, reported: Money | None, received: int | None
) -> ReportedAmount:
    """Judge a provider's amount (``reported``) and received amount against ours."""
    if reported is None or reported == expected:
        return ReportedAmount(received=received, mismatch=False)
    if reported.currency != expected.currency:
        return ReportedAmount(received=0, mismatch=True)
    return ReportedAmount(received=reported.amount if received is None else received, mismatch=True)


@dataclass(frozen=True, slots=True)
class Overpayment:
    """What one succeeded payment brought beyond the order total (zero: nothing to return)."""

    excess: Money
    order_was_paid: bool
    """The order had received its total before this payment (a second attempt succeeded)."""


def size_overpayment(*, received: Money, summary: PaymentSummary) -> Overpayment:
    """Size the over-payment of a payment that just succeeded, ``summary`` including it.

    Only this payment's own money can be returned from it, so the excess is at most what it
    brought.
    """
    if received.currency != summary.total.currency or received.is_negative():
        raise ValueError(f"received must be a non-negative {summary.total.currency} amount")
    before = summary.paid - received
    return Overpayment(
        excess=min(received, summary.overpaid), order_was_paid=before >= summary.total
    )
