"""Order status derived from payment and refund attempts, and the registration it implies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    AttemptAmount,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    OrderStatus,
    PaymentStatus,
    PaymentSummary,
    RefundAmount,
    RefundStatus,
    RegistrationStatus,
    collects_approved_payment,
    derive_order_status,
    registration_status_for,
    summarize,
)

from .builders import usd

NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
TOTAL = usd(5500)


def paid(amount: int, status: PaymentStatus = PaymentStatus.SUCCEEDED) -> AttemptAmount:
    return AttemptAmount(status=status, amount=usd(amount))


def refund(amount: int, status: RefundStatus = RefundStatus.SUCCEEDED) -> RefundAmount:
    return RefundAmount(status=status, amount=usd(amount))


def status(
    payments: list[AttemptAmount] | None = None,
    refunds: list[RefundAmount] | None = None,
    *,
    total: Money = TOTAL,
    cancelled: bool = False,
    expires_at: datetime | None = None,
    now: datetime = NOW,
) -> OrderStatus:
    return derive_order_status(
        total=total,
        payments=payments or [],
        refunds=refunds or [],
        cancelled=cancelled,
        expires_at=expires_at,
        now=now,
    )


def test_status_values_are_stable() -> None:
    assert [item.value for item in OrderStatus] == [
        "awaiting_payment",
        "paid",
        "partially_refunded",
        "refunded",
        "cancelled",
        "expired",
    ]
    assert [item.value for item in RefundStatus] == ["pending", "succeeded", "failed", "canceled"]
    assert [item.value for item in RegistrationStatus] == ["pending", "confirmed", "cancelled"]


def test_summary_counts_only_succeeded_payments_and_refunds() -> None:
    summary = summarize(
        total=TOTAL,
        payments=[
            paid(5500),
            paid(5500, PaymentStatus.FAILED),
            paid(5500, PaymentStatus.PROCESSING),
            paid(100),
        ],
        refunds=[refund(300), refund(1000, RefundStatus.PENDING), refund(50, RefundStatus.FAILED)],
    )
    assert summary == PaymentSummary(
        total=TOTAL,
        paid=usd(5600),
        refunded=usd(300),
        net_paid=usd(5300),
        balance_due=usd(200),
        overpaid=usd(100),
    )


def test_summary_of_an_unpaid_order() -> None:
    summary = summarize(total=TOTAL, payments=[], refunds=[])
    assert (summary.paid, summary.balance_due, summary.overpaid) == (usd(0), TOTAL, usd(0))


def test_summary_refuses_mixed_currencies_and_negative_amounts() -> None:
    with pytest.raises(CurrencyMismatch):
        summarize(
            total=TOTAL,
            payments=[AttemptAmount(PaymentStatus.SUCCEEDED, Money(5500, "eur"))],
            refunds=[],
        )
    with pytest.raises(CurrencyMismatch):
        summarize(total=TOTAL, payments=[], refunds=[RefundAmount("pending", Money(1, "eur"))])  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="order total"):
        summarize(total=usd(-1), payments=[], refunds=[])
    with pytest.raises(InvalidAmount, match="payment amount"):
        paid(-1)
    with pytest.raises(InvalidAmount, match="refund amount"):
        refund(-1)


def test_attempt_statuses_from_storage_are_parsed() -> None:
    assert AttemptAmount("succeeded", usd(1)).status is PaymentStatus.SUCCEEDED  # type: ignore[arg-type]
    assert RefundAmount("pending", usd(1)).status is RefundStatus.PENDING  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refunded"):
        AttemptAmount("refunded", usd(1))  # type: ignore[arg-type]


def test_awaiting_payment_until_paid_in_full() -> None:
    assert status() is OrderStatus.AWAITING_PAYMENT
    assert status([paid(5500, PaymentStatus.PROCESSING)]) is OrderStatus.AWAITING_PAYMENT
    assert status([paid(5499)]) is OrderStatus.AWAITING_PAYMENT


def test_paid_in_full_in_one_or_several_attempts() -> None:
    assert status([paid(5500)]) is OrderStatus.PAID
    assert status([paid(2000), paid(3500)]) is OrderStatus.PAID


def test_pending_refunds_do_not_count() -> None:
    assert status([paid(5500)], [refund(5500, RefundStatus.PENDING)]) is OrderStatus.PAID
    assert status([paid(5500)], [refund(5500, RefundStatus.FAILED)]) is OrderStatus.PAID


def test_refunds_make_the_order_partially_refunded_then_refunded() -> None:
    assert status([paid(5500)], [refund(1)]) is OrderStatus.PARTIALLY_REFUNDED
    assert status([paid(5500)], [refund(5499)]) is OrderStatus.PARTIALLY_REFUNDED
    assert status([paid(5500)], [refund(2500), refund(3000)]) is OrderStatus.REFUNDED


def test_refunding_a_double_charge_leaves_the_order_paid() -> None:
    payments = [paid(5500), paid(5500)]
    assert status(payments) is OrderStatus.PAID
    assert status(payments, [refund(5500)]) is OrderStatus.PAID
    assert status(payments, [refund(5501)]) is OrderStatus.PARTIALLY_REFUNDED
    assert status(payments, [refund(11000)]) is OrderStatus.REFUNDED


def test_money_received_wins_over_cancellation_and_expiry() -> None:
    past = NOW - timedelta(days=1)
    assert status([paid(5500)], cancelled=True) is OrderStatus.PAID
    assert status([paid(5500)], expires_at=past) is OrderStatus.PAID
    assert status([paid(5500)], [refund(500)], cancelled=True) is OrderStatus.PARTIALLY_REFUNDED
    assert status([paid(5500)], [refund(5500)], cancelled=True) is OrderStatus.REFUNDED


def test_unpaid_order_cancelled_or_expired() -> None:
    assert status(cancelled=True) is OrderStatus.CANCELLED
    assert status([paid(100)], cancelled=True) is OrderStatus.CANCELLED
    assert status(cancelled=True, expires_at=NOW - TICK) is OrderStatus.CANCELLED
    assert status(expires_at=NOW) is OrderStatus.EXPIRED
    assert status(expires_at=NOW - TICK) is OrderStatus.EXPIRED
    assert status(expires_at=NOW + TICK) is OrderStatus.AWAITING_PAYMENT


def test_zero_total_order_is_paid_unless_cancelled() -> None:
    free = usd(0)
    assert status(total=free) is OrderStatus.PAID
    assert status(total=free, expires_at=NOW - TICK) is OrderStatus.PAID
    assert status(total=free, cancelled=True) is OrderStatus.CANCELLED
    # A stray payment on a free order was received: it stays paid.
    assert status([paid(100)], total=free, cancelled=True) is OrderStatus.PAID
    assert status([paid(100)], [refund(100)], total=free) is OrderStatus.PAID
    assert status([paid(100)], [refund(200)], total=free) is OrderStatus.REFUNDED
    # A refund with nothing paid is bad data; it must not read as paid.
    assert status([], [refund(1)], total=free) is OrderStatus.REFUNDED


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        status(now=datetime(2027, 2, 1))
    with pytest.raises(ValueError, match="expires_at"):
        status([paid(5500)], expires_at=datetime(2027, 2, 1))


@pytest.mark.parametrize(
    ("order_status", "registration"),
    [
        (OrderStatus.AWAITING_PAYMENT, RegistrationStatus.PENDING),
        (OrderStatus.PAID, RegistrationStatus.CONFIRMED),
        (OrderStatus.PARTIALLY_REFUNDED, RegistrationStatus.CONFIRMED),
        (OrderStatus.REFUNDED, RegistrationStatus.CANCELLED),
        (OrderStatus.CANCELLED, RegistrationStatus.CANCELLED),
        (OrderStatus.EXPIRED, RegistrationStatus.CANCELLED),
        ("paid", RegistrationStatus.CONFIRMED),
    ],
)
def test_registration_status_follows_the_order(
    order_status: OrderStatus, registration: RegistrationStatus
) -> None:
    assert registration_status_for(order_status) is registration


@pytest.mark.parametrize(
    ("order_status", "collect"),
    [
        (OrderStatus.AWAITING_PAYMENT, True),
        (OrderStatus.EXPIRED, True),
        (OrderStatus.PAID, False),
        (OrderStatus.PARTIALLY_REFUNDED, False),
        (OrderStatus.REFUNDED, False),
        (OrderStatus.CANCELLED, False),
        ("awaiting_payment", True),
    ],
)
def test_approved_money_is_collected_only_while_the_order_still_needs_it(
    order_status: OrderStatus, collect: bool
) -> None:
    assert collects_approved_payment(order_status) is collect


AMOUNT = st.integers(min_value=0, max_value=20_000)
PAYMENTS = st.lists(st.builds(paid, AMOUNT, st.sampled_from(PaymentStatus)), max_size=5)
REFUNDS = st.lists(st.builds(refund, AMOUNT, st.sampled_from(RefundStatus)), max_size=5)


@given(
    total=AMOUNT,
    payments=PAYMENTS,
    refunds=REFUNDS,
    cancelled=st.booleans(),
    expiry_offset=st.none() | st.integers(min_value=-2, max_value=2),
)
def test_status_agrees_with_the_summary(
    total: int,
    payments: list[AttemptAmount],
    refunds: list[RefundAmount],
    cancelled: bool,
    expiry_offset: int | None,
) -> None:
    expires_at = None if expiry_offset is None else NOW + expiry_offset * TICK
    summary = summarize(total=usd(total), payments=payments, refunds=refunds)
    result = status(payments, refunds, total=usd(total), cancelled=cancelled, expires_at=expires_at)

    assert summary.net_paid == summary.paid - summary.refunded
    assert summary.balance_due.amount == max(total - summary.net_paid.amount, 0)
    assert summary.overpaid.amount == max(summary.paid.amount - total, 0)
    if summary.paid.amount >= total and (summary.paid.amount > 0 or not cancelled):
        # Money received in full (or nothing owed): never cancelled, expired or awaiting.
        assert result in {
            OrderStatus.PAID,
            OrderStatus.PARTIALLY_REFUNDED,
            OrderStatus.REFUNDED,
        }
        assert (result is OrderStatus.PAID) == (summary.net_paid.amount >= total)
        net = summary.net_paid.amount
        assert (result is OrderStatus.REFUNDED) == (net <= 0 and net < total)
    elif cancelled:
        assert result is OrderStatus.CANCELLED
    elif expiry_offset is not None and expiry_offset <= 0:
        assert result is OrderStatus.EXPIRED
    else:
        assert result is OrderStatus.AWAITING_PAYMENT
        assert summary.balance_due.is_positive()
