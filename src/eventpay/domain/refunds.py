"""The refund attempt state machine.

A refund is `pending` until the provider settles it. Providers can report a refund as
`succeeded` and later `failed` (Stripe: the card was closed, the money came back to the
merchant's balance), so `succeeded → failed` is a real move; `failed` and `canceled` are
final. As with payments, a duplicate or older report changes nothing::

    pending   → succeeded | failed | canceled
    succeeded → failed
    failed, canceled: terminal

Also here: what a payment can still return (the one refund ceiling every request is checked
against) and when a competitor's withdrawal is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from eventpay.domain.money import Money, sum_money
from eventpay.domain.orders import RefundAmount, RefundStatus
from eventpay.domain.payments import TransitionOutcome

_R = RefundStatus

_ALLOWED: Mapping[RefundStatus, frozenset[RefundStatus]] = MappingProxyType(
    {
        _R.PENDING: frozenset({_R.SUCCEEDED, _R.FAILED, _R.CANCELED}),
        _R.SUCCEEDED: frozenset({_R.FAILED}),
        _R.FAILED: frozenset(),
        _R.CANCELED: frozenset(),
    }
)


@dataclass(frozen=True, slots=True)
class RefundTransition:
    applied: bool
    from_status: RefundStatus
    to_status: RefundStatus
    outcome: TransitionOutcome


def refund_transition(current: RefundStatus, target: RefundStatus) -> RefundTransition:
    """Decide whether a refund in `current` moves to the reported `target`."""
    current, target = RefundStatus(current), RefundStatus(target)
    if target is current:
        return RefundTransition(False, current, current, TransitionOutcome.DUPLICATE)
    if target in _ALLOWED[current]:
        return RefundTransition(True, current, target, TransitionOutcome.APPLIED)
    return RefundTransition(False, current, current, TransitionOutcome.STALE)


class RefundKind(StrEnum):
    """Why a refund exists."""

    OVERPAYMENT = "overpayment"
    """Automatic: money beyond the order's total (a second attempt succeeded)."""
    CUSTOMER = "customer"
    """The competitor withdrew, under the event's published terms."""
    OPERATOR = "operator"
    """An admin returned money outside the terms, for a stated reason."""
    EXTERNAL = "external"
    """Made at the provider itself (a dashboard), recorded from its event."""
    SOLD_OUT = "sold_out"
    """Automatic: the payment came after the order's reservation expired, and its places had
    been sold to someone else meanwhile."""


def combined_refund_status(statuses: Iterable[RefundStatus]) -> RefundStatus:
    """One status for a refund split over several payments.

    Pending while any part is; succeeded when every part did; otherwise failed (some money
    did not go back: a person must look). ``ValueError`` for no parts at all.
    """
    parts = {RefundStatus(status) for status in statuses}
    if not parts:
        raise ValueError("a refund has at least one part")
    if RefundStatus.PENDING in parts:
        return RefundStatus.PENDING
    if parts == {RefundStatus.SUCCEEDED}:
        return RefundStatus.SUCCEEDED
    return RefundStatus.FAILED


COUNTS_AGAINST_PAYMENT: frozenset[RefundStatus] = frozenset(
    {RefundStatus.PENDING, RefundStatus.SUCCEEDED}
)
"""Refunds that take from what a payment can still return: done, or on their way. A pending
refund must count here, or two requests at once could return the same money twice."""


@dataclass(frozen=True, slots=True)
class PaymentFunds:
    """One succeeded payment: what it brought in (counted) and the refunds made of it."""

    payment_id: str
    received: Money
    refunds: tuple[RefundAmount, ...] = ()


def refundable_of(funds: PaymentFunds) -> Money:
    """The most one payment can still return: what it brought, less refunds done or under way."""
    taken = sum_money(
        (r.amount for r in funds.refunds if r.status in COUNTS_AGAINST_PAYMENT),
        funds.received.currency,
    )
    return max(funds.received - taken, Money.zero(funds.received.currency))


def held_by_payment(payments: Iterable[PaymentFunds]) -> list[tuple[str, Money]]:
    """Each payment with what it can still return, in the order given (the refund ceiling)."""
    return [(funds.payment_id, refundable_of(funds)) for funds in payments]


def refund_ceiling(*, by_terms: Money, held: Money, by_operator: bool) -> Money:
    """The most a refund request may ask for now.

    A competitor gets what the event's terms return (``by_terms``, already net of refunds done
    or under way and capped by what is held); an operator may return anything still held.
    """
    return held if by_operator else min(by_terms, held)


def withdrawal_settled(refunds: Iterable[tuple[RefundKind, RefundStatus, str | None]]) -> bool:
    """Whether a competitor's withdrawal is complete, so its places may be released.

    `refunds` are (kind, status, request id) of the order's refunds; the parts of one
    withdrawal request (split over several payments) share its request id. A withdrawal is
    complete once every part of one request has succeeded: a part still pending, or refused,
    leaves the competitor holding the place they paid for (until a later request succeeds).
    """
    requests: dict[str, list[RefundStatus]] = {}
    for index, (kind, status, request_id) in enumerate(refunds):
        if RefundKind(kind) is RefundKind.CUSTOMER:
            requests.setdefault(request_id or f"#{index}", []).append(RefundStatus(status))
    return any(
        all(status is RefundStatus.SUCCEEDED for status in parts) for parts in requests.values()
    )
