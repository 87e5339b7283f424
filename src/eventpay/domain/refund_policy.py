"""What a competitor gets back when they withdraw now, and which rule says so.

Each event publishes its terms (``RefundTerms``): a full refund before the refund cutoff; after
it, until the event starts, either nothing or the amount minus a late-withdrawal fee (a
percentage the organizer keeps, rounded half up); nothing once the event has started. An event
without a cutoff has published no self-service refunds: the buyer must ask the organizer.

An order can hold registrations for several events, so its total (fees and discounts
included) is first shared out over its registration lines in proportion to their amounts,
without losing or creating a minor unit, and each event's terms apply to its share. What was
already returned to the buyer, and what is on its way back, is taken off (only the first counts
as returned); refunds of an over-payment are not, since they returned money beyond the total.

What must not live here: who may ask (services), provider calls, storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from eventpay.domain.deadlines import has_passed, has_started, require_aware
from eventpay.domain.errors import InvalidAmount
from eventpay.domain.money import Money, Rounding, sum_money

_HUNDRED = Decimal(100)


class RefundRule(StrEnum):
    """Which published rule decided a line's refund."""

    FULL_BEFORE_CUTOFF = "full_before_cutoff"
    LATE_WITH_FEE = "late_with_fee"
    NONE_AFTER_CUTOFF = "none_after_cutoff"
    EVENT_STARTED = "event_started"
    NO_POLICY = "no_policy"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    RefundRule.FULL_BEFORE_CUTOFF: "Before the refund cutoff: everything paid comes back.",
    RefundRule.LATE_WITH_FEE: (
        "After the refund cutoff: the amount comes back minus the late-withdrawal fee."
    ),
    RefundRule.NONE_AFTER_CUTOFF: "After the refund cutoff this event refunds nothing.",
    RefundRule.EVENT_STARTED: "The event has started: nothing is refunded.",
    RefundRule.NO_POLICY: (
        "The organizer has published no self-service refunds for this event; ask them."
    ),
}


@dataclass(frozen=True, slots=True)
class RefundTerms:
    """An event's published refund terms.

    ``late_fee_percent`` is what the organizer keeps of a withdrawal between the cutoff and the
    event's start (``Decimal("20")`` keeps 20 %); ``None`` means no refund in that period.
    """

    cutoff_at: datetime | None
    starts_at: datetime
    late_fee_percent: Decimal | None = None

    def __post_init__(self) -> None:
        require_aware(self.starts_at, "starts_at")
        if self.cutoff_at is not None:
            require_aware(self.cutoff_at, "cutoff_at")
        if self.late_fee_percent is not None:
            pct = self.late_fee_percent
            if not isinstance(pct, Decimal) or not pct.is_finite() or not 0 <= pct <= _HUNDRED:
                raise InvalidAmount(f"late fee percent must be a Decimal in [0, 100], got {pct!r}")
            if (pct * _HUNDRED) != (pct * _HUNDRED).to_integral_value():
                raise InvalidAmount(f"late fee percent has more than two decimals: {pct}")

    def rule_at(self, now: datetime) -> RefundRule:
        if has_started(self.starts_at, now):
            return RefundRule.EVENT_STARTED
        if self.cutoff_at is None:
            return RefundRule.NO_POLICY
        if not has_passed(self.cutoff_at, now):
            return RefundRule.FULL_BEFORE_CUTOFF
        if self.late_fee_percent is None:
            return RefundRule.NONE_AFTER_CUTOFF
        return RefundRule.LATE_WITH_FEE

    def refund_of(self, paid: Money, now: datetime) -> tuple[RefundRule, Money]:
        """The rule in force at ``now`` and what it returns of ``paid``."""
        rule = self.rule_at(now)
        if rule is RefundRule.FULL_BEFORE_CUTOFF:
            return rule, paid
        if rule is RefundRule.LATE_WITH_FEE:
            assert self.late_fee_percent is not None  # the rule says so
            fee = paid.apply_rate(self.late_fee_percent / _HUNDRED, Rounding.HALF_UP)
            return rule, paid - fee
        return rule, Money.zero(paid.currency)

    def summary(self) -> str:
        """One sentence for the catalog."""
        if self.cutoff_at is None:
            return "No self-service refunds have been published for this event; ask the organizer."
        full = f"Full refund before {self.cutoff_at.isoformat()}"
        if self.late_fee_percent is None:
            return f"{full}; no refund after."
        return (
            f"{full}; after that, until the event starts, a refund minus a "
            f"{self.late_fee_percent.normalize():f} % late-withdrawal fee; none once it starts."
        )


@dataclass(frozen=True, slots=True)
class RefundLine:
    """One registration line's share of the order and what its event's terms return of it."""

    event_id: str
    share: Money
    rule: RefundRule
    refundable: Money

    @property
    def kept(self) -> Money:
        return self.share - self.refundable


@dataclass(frozen=True, slots=True)
class RefundQuote:
    """What a withdrawal now returns: by the terms, less what already went back and what is on
    its way back, at most the money still held."""

    lines: tuple[RefundLine, ...]
    by_terms: Money
    already_returned: Money
    """Refunds of the order's price that succeeded: money the buyer has back."""
    refundable: Money
    on_its_way: Money
    """Refunds of the order's price still pending at the provider (not counted as returned)."""

    @property
    def kept(self) -> Money:
        return sum_money((line.kept for line in self.lines), self.refundable.currency)

    @property
    def rule(self) -> RefundRule | None:
        """The one rule every line fell under, or ``None`` when the lines differ."""
        rules = {line.rule for line in self.lines}
        return rules.pop() if len(rules) == 1 else None


def quote_refund(
    *,
    total: Money,
    lines: Sequence[tuple[str, Money, RefundTerms]],
    returned: Money,
    held: Money,
    now: datetime,
    pending: Money | None = None,
    step: int = 1,
) -> RefundQuote:
    """Quote a withdrawal.

    ``lines`` are (event id, line amount, that event's terms) for each registration line;
    ``returned`` is what earlier refunds of the order's price gave back (succeeded) and
    ``pending`` what they are still giving back; ``held`` is the money received and not
    refunded (or being refunded) yet. Both ``returned`` and ``pending`` come off what the terms
    allow: money on its way back must never be offered twice. ``step`` is the payment
    provider's smallest amount step in minor units (10 for a three-decimal currency at
    Stripe): the refundable amount is rounded DOWN to it, so the refund is one the provider
    can send; the buyer gives up less than one step.
    """
    require_aware(now, "now")
    currency = total.currency
    zero = Money.zero(currency)
    on_its_way = zero if pending is None else pending
    for value, what in ((returned, "returned"), (held, "held"), (on_its_way, "pending")):
        if value.currency != currency or value.is_negative():
            raise InvalidAmount(f"{what} must be a non-negative {currency} amount, got {value}")
    weights = [amount.amount for _, amount, _ in lines]
    if total.is_zero() or not any(weights):
        shares = [zero for _ in lines]
    else:
        shares = total.allocate(weights)
    quoted = []
    for (event_id, _, terms), share in zip(lines, shares, strict=True):
        rule, refundable = terms.refund_of(share, now)
        quoted.append(RefundLine(event_id=event_id, share=share, rule=rule, refundable=refundable))
    by_terms = sum_money((line.refundable for line in quoted), currency)
    if step < 1:
        raise InvalidAmount(f"an amount step is a positive number of minor units, got {step}")
    most = max(zero, min(by_terms - returned - on_its_way, held))
    refundable = Money(most.amount - most.amount % step, currency)  # rounded down to the step
    return RefundQuote(
        lines=tuple(quoted),
        by_terms=by_terms,
        already_returned=returned,
        refundable=refundable,
        on_its_way=on_its_way,
    )


def returned_to_buyer(
    *, total: Money, paid: Money, refunded: Money, pending: Money | None = None
) -> tuple[Money, Money]:
    """What refunds gave back of the order's own price, and what they are still giving back.

    ``refunded`` counts refunds that succeeded and ``pending`` those on their way, whatever made
    them (automatic, an admin, the provider's dashboard). Refunds first return money beyond the
    total (``paid - total``), which was never the buyer's price and so does not reduce a
    withdrawal; succeeded refunds are counted against it before pending ones.
    """
    zero = Money.zero(total.currency)
    on_its_way = zero if pending is None else pending
    overpaid = max(paid - total, zero)
    returned = max(refunded - overpaid, zero)
    overpaid_left = max(overpaid - refunded, zero)
    return returned, max(on_its_way - overpaid_left, zero)


def allocate_refund(amount: Money, sources: Sequence[tuple[str, Money]]) -> list[tuple[str, Money]]:
    """Spread a refund over payments, in the order given, each up to what it can still return.

    ``sources`` are (payment id, refundable amount); payments that contribute nothing are left
    out. Raises ``InvalidAmount`` if the payments together cannot return ``amount``.
    """
    if not amount.is_positive():
        raise InvalidAmount(f"a refund must be positive, got {amount}")
    left = amount
    parts: list[tuple[str, Money]] = []
    for payment_id, available in sources:
        if left.is_zero():
            break
        take = min(left, available)
        if take.is_positive():
            parts.append((payment_id, take))
            left = left - take
    if left.is_positive():
        raise InvalidAmount(f"the payments can return {amount - left} at most, not {amount}")
    return parts
