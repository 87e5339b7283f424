"""Pricing: what a buyer pays for a registration, and how an order's total splits up.

Three steps, all pure:

1. ``price_registration`` turns an event and the classes a buyer picked into quote lines. The
   buyer always gets the best price they qualify for: member or non-member price, the
   early-bird price strictly before its deadline when it is lower, and the additional-class
   price for every class except the most expensive one.
2. ``fee_policy_for`` says which platform fee policy an event's lines are priced under: the
   event's own, else its organizer's, else the platform's.
3. ``quote_order`` adds up lines, applies the fee policies and says who gets what:
   ``total == organizer_net + platform_fee + tax`` always holds, and nothing is negative. Each
   event's lines are charged under that event's policy, on that event's subtotal
   (``fee_shares``): an event's fee is the same whether it is bought alone or in a basket with
   other events (docs/decisions.md, "Platform fee policies").

A line may carry a ``discount`` (its share of a promo code's, ``promotions.allocate_discount``):
the platform fee is charged on what the buyer pays for the line, its amount less its discount.

What must not live here: which promo code applies and how its discount splits (``promotions``),
tax rules and refunds (the ``tax`` field exists so a later rule can fill it without changing the
shape of a quote).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from eventpay.domain.catalog import CompetitionClass, Event, Organizer
from eventpay.domain.deadlines import has_passed
from eventpay.domain.errors import (
    CurrencyMismatch,
    DuplicateClass,
    NoClassesSelected,
    PricingError,
)

# Re-exported: FeePolicy and FeePayer were defined here first, and callers import them from here.
from eventpay.domain.fee_policy import FeePayer as FeePayer
from eventpay.domain.fee_policy import FeePolicy as FeePolicy
from eventpay.domain.money import Money, sum_money


class LineKind(StrEnum):
    """The ``kind`` values of quote lines that this module produces."""

    REGISTRATION = "registration"
    FEE = "fee"
    PASS = "pass"  # noqa: S105 - a line kind, not a password
    VIP_UPGRADE = "vip_upgrade"
    TEAM = "team"
    SERIES = "series"
    MERCHANDISE = "merchandise"
    SHIPPING = "shipping"


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
    discount: Money | None = None  # None: no discount on this line

    @property
    def net(self) -> Money:
        """What the buyer pays for this line: its amount less its discount."""
        return self.amount if self.discount is None else self.amount - self.discount


def with_discounts(lines: Sequence[QuoteLine], discounts: Sequence[Money]) -> tuple[QuoteLine, ...]:
    """``lines`` with ``discounts`` (one per line, adding to any discount already there)."""
    if len(lines) != len(discounts):
        raise PricingError("one discount per line")
    out = []
    for line, extra in zip(lines, discounts, strict=True):
        total = extra if line.discount is None else line.discount + extra
        out.append(
            line if total.is_zero() and line.discount is None else replace(line, discount=total)
        )
    return tuple(out)


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


def fee_policy_for(*, event: Event, organizer: Organizer | None, default: FeePolicy) -> FeePolicy:
    """The policy ``event``'s lines are charged under: the event's, its organizer's or ``default``.

    ``organizer`` is the event's organizer (None when the caller has no organizer row, which
    leaves the event's own policy or the default).
    """
    if organizer is not None and organizer.id != event.organizer_id:
        raise ValueError(
            f"organizer {organizer.id!r} does not run event {event.id!r} "
            f"(its organizer is {event.organizer_id!r})"
        )
    if event.fee_policy is not None:
        return event.fee_policy
    if organizer is not None and organizer.fee_policy is not None:
        return organizer.fee_policy
    return default


@dataclass(frozen=True, slots=True)
class FeeShare:
    """The platform fee on one event's lines of an order: the policy, the base and the fee.

    ``event_id`` is None for lines that belong to no event, charged under the default policy.
    """

    event_id: str | None
    policy: FeePolicy
    subtotal: Money
    fee: Money


def fee_shares(
    *,
    currency: str,
    lines: Sequence[QuoteLine],
    fee_policy: FeePolicy,
    event_policies: Mapping[str, FeePolicy] | None = None,
) -> tuple[FeeShare, ...]:
    """The fee on each event's lines, in the order the events first appear in ``lines``.

    An event in ``event_policies`` is charged under its policy there, every other line under
    ``fee_policy``. The fixed part is charged once per event, as if each event were bought alone.
    """
    policies = event_policies or {}
    groups: dict[str | None, list[Money]] = {}
    for line in lines:
        groups.setdefault(line.event_id, []).append(line.net)
    shares = []
    for event_id, amounts in groups.items():
        policy = fee_policy if event_id is None else policies.get(event_id, fee_policy)
        subtotal = sum_money(amounts, currency)
        shares.append(FeeShare(event_id, policy, subtotal, policy.fee_for(subtotal)))
    return tuple(shares)


def quote_order(
    *,
    currency: str,
    lines: Sequence[QuoteLine],
    fee_policy: FeePolicy,
    event_policies: Mapping[str, FeePolicy] | None = None,
) -> Quote:
    """Total ``lines`` and apply the fee policies (``fee_shares``: ``event_policies`` for the
    events named there, ``fee_policy`` for all other lines).

    ``lines`` are the priced items (never fee lines: fees are computed here, from subtotals).
    Fees the buyer pays are added up into one ``fee`` line; fees the organizer pays are taken
    from the organizer's net and no line shows them. ``platform_fee`` is every fee.
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
        if line.discount is not None:
            if line.discount.currency != currency:
                raise CurrencyMismatch(currency, line.discount.currency)
            if line.discount.is_negative() or line.discount > line.amount:
                raise PricingError(
                    f"a line's discount must be 0 to its amount: {line.description!r}"
                )
    subtotal = sum_money((line.amount for line in lines), currency)
    discount = sum_money((line.discount for line in lines if line.discount is not None), currency)
    shares = fee_shares(
        currency=currency, lines=lines, fee_policy=fee_policy, event_policies=event_policies
    )
    platform_fee = sum_money((share.fee for share in shares), currency)
    buyer_fees = sum_money(
        (share.fee for share in shares if share.policy.payer is FeePayer.BUYER), currency
    )
    priced = tuple(lines)
    if not buyer_fees.is_zero():
        priced += (QuoteLine(kind=LineKind.FEE, description="Service fee", amount=buyer_fees),)
    zero = Money.zero(currency)
    total = subtotal - discount + buyer_fees
    return Quote(
        currency=currency,
        lines=priced,
        subtotal=subtotal,
        discount=discount,
        fees=buyer_fees,
        tax=zero,
        total=total,
        platform_fee=platform_fee,
        organizer_net=total - platform_fee,
    )
