"""An order's payment status, derived from its payment and refund attempts, never stored.

An order is not paid by a flag: each payment attempt and each refund attempt has its own status
and amount, and the order's status is computed from their sums (pretix's "payment 2.0" lesson:
a stored flag cannot describe a double charge followed by a refund).

Rules of ``derive_order_status``, in order:

1. Money received wins. Once succeeded payments cover the total, the order is ``paid`` (or
   ``partially_refunded`` / ``refunded`` as succeeded refunds bring the net below the total /
   to zero), even if it was cancelled or has expired since: the service must refund that
   money, not pretend it never arrived. Refunds that only return an over-payment (a double
   charge) leave the order ``paid``.
2. A zero-total order needs no payment and is ``paid`` from the start, unless it was
   cancelled (no money changed hands, so cancelling it is honest).
3. An order never paid in full is ``cancelled`` if cancelled, ``expired`` from its
   ``expires_at`` instant on, else ``awaiting_payment``. A partial payment does not make it
   paid; ``summarize`` reports what was received and so what must be returned.

Pending refunds do not count as refunded: money is only gone once the provider confirms it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from eventpay.domain.deadlines import has_passed, require_aware
from eventpay.domain.errors import CurrencyMismatch, InvalidAmount
from eventpay.domain.money import Money, sum_money
from eventpay.domain.payments import PaymentStatus


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class RegistrationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


def _require_not_negative(amount: Money, what: str) -> None:
    if amount.is_negative():
        raise InvalidAmount(f"{what} must not be negative, got {amount}")


@dataclass(frozen=True, slots=True)
class AttemptAmount:
    """A payment attempt's status and amount, as far as the order's status is concerned."""

    status: PaymentStatus
    amount: Money

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", PaymentStatus(self.status))
        _require_not_negative(self.amount, "a payment amount")


@dataclass(frozen=True, slots=True)
class RefundAmount:
    """A refund attempt's status and amount (a positive amount returned to the buyer)."""

    status: RefundStatus
    amount: Money

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RefundStatus(self.status))
        _require_not_negative(self.amount, "a refund amount")


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    """What an order has received and returned.

    ``net_paid = paid - refunded``, ``balance_due = max(total - net_paid, 0)`` and
    ``overpaid = max(paid - total, 0)``.
    """

    total: Money
    paid: Money
    refunded: Money
    net_paid: Money
    balance_due: Money
    overpaid: Money


def summarize(
    *, total: Money, payments: Sequence[AttemptAmount], refunds: Sequence[RefundAmount]
) -> PaymentSummary:
    """Sum succeeded payments and succeeded refunds against ``total``."""
    _require_not_negative(total, "an order total")
    currency = total.currency
    for amount in (*(p.amount for p in payments), *(r.amount for r in refunds)):
        if amount.currency != currency:
            raise CurrencyMismatch(currency, amount.currency)
    paid = sum_money((p.amount for p in payments if p.status is PaymentStatus.SUCCEEDED), currency)
    refunded = sum_money(
        (r.amount for r in refunds if r.status is RefundStatus.SUCCEEDED), currency
    )
    net_paid = paid - refunded
    zero = Money.zero(currency)
    return PaymentSummary(
        total=total,
        paid=paid,
        refunded=refunded,
        net_paid=net_paid,
        balance_due=max(total - net_paid, zero),
        overpaid=max(paid - total, zero),
    )


def derive_order_status(
    *,
    total: Money,
    payments: Sequence[AttemptAmount],
    refunds: Sequence[RefundAmount],
    cancelled: bool,
    expires_at: datetime | None,
    now: datetime,
) -> OrderStatus:
    """The order's status from its attempts; see the module docstring for the rules."""
    require_aware(now, "now")
    if expires_at is not None:
        require_aware(expires_at, "expires_at")
    summary = summarize(total=total, payments=payments, refunds=refunds)
    # A free order is settled on creation; cancelling it is honest only while no money came in.
    settled = summary.paid >= total and (summary.paid.is_positive() or not cancelled)
    if settled:
        if summary.net_paid >= total:
            return OrderStatus.PAID
        if summary.net_paid.is_positive():
            return OrderStatus.PARTIALLY_REFUNDED
        return OrderStatus.REFUNDED
    if cancelled:
        return OrderStatus.CANCELLED
    if expires_at is not None and has_passed(expires_at, now):
        return OrderStatus.EXPIRED
    return OrderStatus.AWAITING_PAYMENT


_COLLECTS_APPROVED = frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED})


def collects_approved_payment(order_status: OrderStatus) -> bool:
    """Whether money a buyer approved but that is not taken yet (PayPal) should be taken now.

    Yes while the order waits for payment, and for an expired order too: the attempt began
    before the order expired, and a settled payment wins over expiry exactly as a card charge
    that lands late does. No once the order is paid, refunded or cancelled: taking the money
    would only mean refunding it, with the provider's fees lost both ways.
    """
    return OrderStatus(order_status) in _COLLECTS_APPROVED


_REGISTRATION_STATUS: Mapping[OrderStatus, RegistrationStatus] = MappingProxyType(
    {
        OrderStatus.AWAITING_PAYMENT: RegistrationStatus.PENDING,
        OrderStatus.PAID: RegistrationStatus.CONFIRMED,
        OrderStatus.PARTIALLY_REFUNDED: RegistrationStatus.CONFIRMED,
        OrderStatus.REFUNDED: RegistrationStatus.CANCELLED,
        OrderStatus.CANCELLED: RegistrationStatus.CANCELLED,
        OrderStatus.EXPIRED: RegistrationStatus.CANCELLED,
    }
)


def registration_status_for(order_status: OrderStatus) -> RegistrationStatus:
    """A partially refunded order still holds its registrations; a refunded one does not."""
    return _REGISTRATION_STATUS[OrderStatus(order_status)]
