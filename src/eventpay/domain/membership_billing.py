"""Membership money: the proration of a tier change, and a renewal's quote.

**Proration** (``prorate``). The providers prorate a mid-period tier change themselves (Stripe to
the second, PayPal by revising the plan); this quote is what eventpay shows the buyer before
the change and checks the provider's figure against (``Proration.agrees_with``). For a change
at ``at`` inside a period of length ``L``, with ``R = end - at`` remaining (both counted in
microseconds):

- ``credit`` = what was paid for the old tier * R / L: the unused part, given back;
- ``used`` = what was paid - ``credit``: so ``credit + used == paid`` to the minor unit;
- ``charge`` = the new tier's price * R / L: the new tier for the rest of the period;
- ``net`` = ``charge - credit``. Positive: the buyer owes it now (an upgrade). Negative: the
  buyer is owed it (a downgrade), which Stripe keeps as customer credit for the next invoice.

``credit`` and ``charge`` are never negative, the credit never exceeds what was paid and the
charge never exceeds the new price. Each fraction is rounded once, ROUND_HALF_EVEN to the minor
unit (``Rounding.HALF_EVEN``, so that ties do not lean toward the buyer or the platform over
many changes). Both tiers must bill over the same interval: a yearly-to-monthly change is a new
subscription, not a proration.

**Renewals** (``renewal_quote``). Each paid period is one quote line of kind ``membership``,
which the service posts like any order line. The platform sells memberships itself: there is no
organizer, the whole amount is the platform's revenue, so no platform fee applies. A fee policy
may be configured only if the buyer bears it (a service fee line on the membership invoice); a
fee the organizer bears is refused, since nobody would bear it.

What must not live here: when a renewal is due or paid (``memberships``), provider calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from eventpay.domain.deadlines import require_aware
from eventpay.domain.errors import CurrencyMismatch
from eventpay.domain.fee_policy import FeePayer, FeePolicy
from eventpay.domain.membership_tiers import MembershipError, MembershipTier
from eventpay.domain.memberships import Period
from eventpay.domain.money import Money, Rounding
from eventpay.domain.pricing import Quote, QuoteLine, quote_order

MEMBERSHIP_LINE_KIND = "membership"
PRORATION_ROUNDING = Rounding.HALF_EVEN
NO_FEE = FeePolicy(percent=Decimal(0), fixed_minor=0, payer=FeePayer.BUYER)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Proration:
    """The money of one tier change; see the module docstring for the signs."""

    paid: Money
    credit: Money
    used: Money
    charge: Money
    rounding: Rounding = PRORATION_ROUNDING

    @property
    def net(self) -> Money:
        return self.charge - self.credit

    def agrees_with(self, provider_net: Money, tolerance_minor: int = 2) -> bool:
        """Whether a provider's net figure matches this quote within ``tolerance_minor`` minor
        units (each of its two roundings may differ from ours by one)."""
        return abs(provider_net - self.net).amount <= tolerance_minor


def _fraction(amount: int, part: int, whole: int) -> int:
    # ROUND_HALF_EVEN of amount * part / whole, in integers: no Decimal context can hold an
    # arbitrary quotient exactly, and the operands are all non-negative here.
    quotient, remainder = divmod(amount * part, whole)
    if 2 * remainder > whole or (2 * remainder == whole and quotient % 2 == 1):
        quotient += 1
    return quotient


def prorate(
    old_tier: MembershipTier,
    new_tier: MembershipTier,
    *,
    period_start: datetime,
    period_end: datetime,
    at: datetime,
    paid: Money | None = None,
) -> Proration:
    """The credit and charge for moving from ``old_tier`` to ``new_tier`` at ``at`` within the
    paid period; ``paid`` is what the old tier's period cost (its price unless given)."""
    period = Period(period_start, period_end)
    require_aware(at, "at")
    if not period.start <= at <= period.end:
        raise ValueError(f"a tier change at {at} is outside the period {period}")
    if old_tier.interval is not new_tier.interval:
        raise MembershipError(
            f"cannot prorate a {old_tier.interval.value}ly tier into a "
            f"{new_tier.interval.value}ly one"
        )
    if new_tier.price.currency != old_tier.price.currency:
        raise CurrencyMismatch(old_tier.price.currency, new_tier.price.currency)
    paid = old_tier.price if paid is None else paid
    if paid.currency != old_tier.price.currency:
        raise CurrencyMismatch(old_tier.price.currency, paid.currency)
    if paid.is_negative():
        raise ValueError(f"what was paid cannot be negative: {paid}")
    whole = (period.end - period.start) // _MICROSECOND
    remaining = (period.end - at) // _MICROSECOND
    currency = paid.currency
    credit = Money(_fraction(paid.amount, remaining, whole), currency)
    charge = Money(_fraction(new_tier.price.amount, remaining, whole), currency)
    return Proration(paid=paid, credit=credit, used=paid - credit, charge=charge)


def renewal_line(tier: MembershipTier, period: Period) -> QuoteLine:
    """The quote line for one paid period of ``tier``."""
    if tier.is_free:
        raise MembershipError(f"the free tier {tier.code!r} has no renewal")
    return QuoteLine(
        kind=MEMBERSHIP_LINE_KIND,
        description=f"{tier.name} membership, {period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}",
        amount=tier.price,
    )


def renewal_quote(
    tier: MembershipTier, period: Period, *, fee_policy: FeePolicy | None = None
) -> Quote:
    """The quote of one renewal: its line, plus a buyer-borne service fee if one is configured."""
    policy = NO_FEE if fee_policy is None else fee_policy
    charges = policy.percent != 0 or policy.fixed_minor != 0
    if policy.payer is FeePayer.ORGANIZER and charges:
        raise ValueError("a membership has no organizer to bear a platform fee")
    return quote_order(
        currency=tier.price.currency, lines=(renewal_line(tier, period),), fee_policy=policy
    )
