"""Pricing: what a buyer pays for a registration, and how an order's total splits up.

Two steps, both pure:

1. ``price_registration`` turns an event and the classes a buyer picked into quote lines. The
   buyer always gets the best price they qualify for: member or non-member price, the
   early-bird price strictly before its deadline when it is lower, and the additional-class
   price for every class except the most expensive one.
2. ``quote_order`` adds up lines, applies the platform fee policy and says who gets what:
   ``total == organizer_net + platform_fee + tax`` always holds, and nothing is negative.

What must not live here: promo codes, tax rules and refunds (the ``discount`` and ``tax`` fields
exist so later rules can fill them without changing the shape of a quote).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from eventpay.domain.catalog import CompetitionClass, Event
from eventpay.domain.deadlines import has_passed
from eventpay.domain.errors import (
    CurrencyMismatch,
    DuplicateClass,
    InvalidAmount,
    NoClassesSelected,
    PricingError,
)
from eventpay.domain.money import Money, Rounding, sum_money


class LineKind(StrEnum):
    """The ``kind`` values of quote lines that this module produces."""

    REGISTRATION = "registration"
    FEE = "fee"


class PriceRule(StrEnum):
    """Which of a class's prices a line was charged at."""

    MEMBER = "member"
    NON_MEMBER = "non_member"
    EARLY_BIRD = "early_bird"
    ADDITIONAL_CLASS = "additional_class"


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One priced line of an order: what it is, what it costs and which rule priced it."""

    kind: str
    description: str
    amount: Money
    event_id: str | None = None
    class_id: str | None = None
    price_rule: PriceRule | None = None


def unit_price(
    competition_class: CompetitionClass, *, is_member: bool, now: datetime
) -> tuple[Money, PriceRule]:
    """The best single-class price the buyer qualifies for, and the rule that gave it."""
    if is_member:
        price, rule = competition_class.member_price, PriceRule.MEMBER
    else:
        price, rule = competition_class.non_member_price, PriceRule.NON_MEMBER
    early_price = competition_class.early_bird_price
    deadline = competition_class.early_bird_deadline
    if early_price is None or deadline is None or has_passed(deadline, now) or early_price >= price:
        return price, rule
    return early_price, PriceRule.EARLY_BIRD


def price_registration(
    *, event: Event, class_ids: Sequence[str], is_member: bool, now: datetime
) -> tuple[QuoteLine, ...]:
    """Quote lines for entering ``class_ids`` at ``event``, in the order the buyer gave them.

    The class whose own unit price is highest is the entry at full price (the first one given,
    on a tie); every other class costs its additional-class price when it has one that is not
    above its unit price, else its unit price.
    """
    if isinstance(class_ids, str):
        raise TypeError("class_ids must be a sequence of ids, not a single string")
    event.ensure_open(now)
    if not class_ids:
        raise NoClassesSelected()
    seen: set[str] = set()
    for class_id in class_ids:
        if class_id in seen:
            raise DuplicateClass(class_id)
        seen.add(class_id)
    classes = [event.class_by_id(class_id) for class_id in class_ids]
    units = [unit_price(item, is_member=is_member, now=now) for item in classes]
    # max() keeps the first of equal keys, which is the "first given wins a tie" rule.
    entry = max(range(len(units)), key=lambda index: units[index][0].amount)
    membership = "member" if is_member else "non-member"
    lines: list[QuoteLine] = []
    for index, (competition_class, (price, rule)) in enumerate(zip(classes, units, strict=True)):
        additional = competition_class.additional_class_price
        if index != entry and additional is not None and additional <= price:
            price, rule, label = additional, PriceRule.ADDITIONAL_CLASS, "additional class"
        elif rule is PriceRule.EARLY_BIRD:
            label = f"{membership}, early bird"
        else:
            label = membership
        lines.append(
            QuoteLine(
                kind=LineKind.REGISTRATION,
                description=f"{event.name} — {competition_class.code} ({label})",
                amount=price,
                event_id=event.id,
                class_id=competition_class.id,
                price_rule=rule,
            )
        )
    return tuple(lines)


class FeePayer(StrEnum):
    """Who bears the platform fee."""

    ORGANIZER = "organizer"
    """Deducted from the organizer's payout; the buyer's total excludes it."""
    BUYER = "buyer"
    """Added to the buyer's total as a line of kind ``fee``."""


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """The platform fee: ``percent`` of the subtotal, rounded by ``rounding``, plus a fixed part.

    ``percent`` is a percentage (``Decimal("2.9")`` is 2.9 %), ``fixed_minor`` is in the
    quoted currency's minor units.
    """

    percent: Decimal
    fixed_minor: int
    rounding: Rounding = Rounding.HALF_UP
    payer: FeePayer = FeePayer.ORGANIZER

    def __post_init__(self) -> None:
        if not isinstance(self.percent, Decimal) or not self.percent.is_finite():
            raise InvalidAmount(f"fee percent must be a finite Decimal, got {self.percent!r}")
        if not Decimal(0) <= self.percent <= Decimal(100):
            raise InvalidAmount(f"fee percent must be between 0 and 100, got {self.percent}")
        if isinstance(self.fixed_minor, bool) or not isinstance(self.fixed_minor, int):
            raise InvalidAmount(f"fixed fee must be an int, got {self.fixed_minor!r}")
        if self.fixed_minor < 0:
            raise InvalidAmount(f"fixed fee must not be negative, got {self.fixed_minor}")
        # Accept the enums' string values too, as they come back from storage.
        object.__setattr__(self, "rounding", Rounding(self.rounding))
        object.__setattr__(self, "payer", FeePayer(self.payer))

    def fee_for(self, subtotal: Money) -> Money:
        """The fee on ``subtotal``, never more than the subtotal itself, zero on zero."""
        if subtotal.is_negative():
            raise InvalidAmount(f"cannot charge a fee on a negative subtotal: {subtotal}")
        if subtotal.is_zero():
            return subtotal
        # Shift the decimal point exactly; dividing by 100 would round at the context precision.
        sign, digits, exponent = self.percent.as_tuple()
        assert isinstance(exponent, int)  # finite, checked on construction
        rate = Decimal((sign, digits, exponent - 2))
        fee = subtotal.apply_rate(rate, self.rounding) + Money(self.fixed_minor, subtotal.currency)
        # Capped so the organizer's net can never go negative on a cheap order.
        return min(fee, subtotal)


@dataclass(frozen=True, slots=True)
class Quote:
    """An order's priced lines and the split of its total between organizer and platform.

    ``subtotal`` is the sum of the non-fee lines, ``fees`` the fees the buyer pays,
    ``platform_fee`` what the platform keeps and ``organizer_net`` what the organizer is paid
    out. Construction checks ``total == subtotal - discount + fees + tax`` and
    ``total == organizer_net + platform_fee + tax``, one currency and no negative amounts, so a
    quote rebuilt from storage cannot silently disagree with itself.
    """

    currency: str
    lines: tuple[QuoteLine, ...]
    subtotal: Money
    discount: Money
    fees: Money
    tax: Money
    total: Money
    platform_fee: Money
    organizer_net: Money

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", Money.zero(self.currency).currency)
        object.__setattr__(self, "lines", tuple(self.lines))
        amounts = (
            self.subtotal,
            self.discount,
            self.fees,
            self.tax,
            self.total,
            self.platform_fee,
            self.organizer_net,
        )
        for amount in (*amounts, *(line.amount for line in self.lines)):
            if amount.currency != self.currency:
                raise CurrencyMismatch(self.currency, amount.currency)
        if any(amount.is_negative() for amount in amounts):
            raise PricingError("a quote's amounts must not be negative")
        if self.total != self.subtotal - self.discount + self.fees + self.tax:
            raise PricingError("total must equal subtotal - discount + fees + tax")
        if self.total != self.organizer_net + self.platform_fee + self.tax:
            raise PricingError("total must equal organizer_net + platform_fee + tax")


def quote_order(*, currency: str, lines: Sequence[QuoteLine], fee_policy: FeePolicy) -> Quote:
    """Total ``lines`` and apply ``fee_policy``.

    ``lines`` are the priced items (never fee lines: the fee is computed here, from the
    subtotal). When the buyer pays the fee it is appended as a ``fee`` line; when the organizer
    pays it, it is taken from the organizer's net and no line shows it.
    """
    currency = Money.zero(currency).currency
    if not lines:
        raise PricingError("an order needs at least one line")
    for line in lines:
        if line.amount.currency != currency:
            raise CurrencyMismatch(currency, line.amount.currency)
        if line.kind == LineKind.FEE:
            raise PricingError("fee lines are computed by quote_order, not passed in")
        if line.amount.is_negative():
            raise PricingError(f"line amounts must not be negative: {line.description!r}")
    subtotal = sum_money((line.amount for line in lines), currency)
    zero = Money.zero(currency)
    fee = fee_policy.fee_for(subtotal)
    priced = tuple(lines)
    if fee_policy.payer is FeePayer.BUYER:
        buyer_fees = fee
        if not fee.is_zero():
            priced += (QuoteLine(kind=LineKind.FEE, description="Service fee", amount=fee),)
    else:
        buyer_fees = zero
    total = subtotal + buyer_fees
    return Quote(
        currency=currency,
        lines=priced,
        subtotal=subtotal,
        discount=zero,
        fees=buyer_fees,
        tax=zero,
        total=total,
        platform_fee=fee,
        organizer_net=total - fee,
    )
