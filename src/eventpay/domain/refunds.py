"""The refund attempt state machine.

A refund is `pending` until the provider settles it. Providers can report a refund as
`succeeded` and later `failed` (Stripe: the card was closed, the money came back to the
merchant's balance), so `succeeded → failed` is a real move; `failed` and `canceled` are
final. As with payments, a duplicate or older report changes nothing::

    pending   → succeeded | failed | canceled
    succeeded → failed
    failed, canceled: terminal
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from eventpay.domain.orders import RefundStatus
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
