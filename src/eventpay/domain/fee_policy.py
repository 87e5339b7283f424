"""The platform fee policy: what the platform keeps of a subtotal, and who bears it.

A policy is a percentage of a subtotal, rounded by a named rule, plus a fixed part in the quoted
currency's minor units, borne by the organizer (taken from the payout) or by the buyer (added to
the order as a ``fee`` line). The platform has one policy (from settings); an organizer and an
event may each have their own, and the most specific one wins (``pricing.fee_policy_for``).

Nonsense is refused when a policy is built, with the field named, so that a typo in settings or
in catalog data stops the service at start-up or the catalog at save, never a buyer's order.

What must not live here: which policy prices which order lines (``pricing``), and whether a
refund gives the fee back (the refund terms decide, see ``refund_policy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from eventpay.domain.errors import InvalidAmount
from eventpay.domain.money import Money, Rounding

MAX_FIXED_FEE_MINOR = 1_000_000
"""The largest fixed part a policy accepts, in minor units.

A policy holds no currency (its fixed part is in the minor units of whatever it prices), so
this is a guard against typos, chosen to sit above any sane fixed fee in every supported
currency (₫1,000,000 is about forty dollars) while refusing the absurd in the major ones
(10,000.00 dollars, euros or pounds; a registration costs tens of them).
"""


class FeePayer(StrEnum):
    """Who bears the platform fee."""

    ORGANIZER = "organizer"
    """Deducted from the organizer's payout; the buyer's total excludes it."""
    BUYER = "buyer"
    """Added to the buyer's total as a line of kind ``fee``."""


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """The platform fee: ``percent`` of the subtotal, rounded by ``rounding``, plus a fixed part.

    ``percent`` is a percentage (``Decimal("2.9")`` is 2.9 %) between 0 and 100, ``fixed_minor``
    is in the quoted currency's minor units, between 0 and ``MAX_FIXED_FEE_MINOR``.
    """

    percent: Decimal
    fixed_minor: int
    rounding: Rounding = Rounding.HALF_UP
    payer: FeePayer = FeePayer.ORGANIZER

    def __post_init__(self) -> None:
        if not isinstance(self.percent, Decimal) or not self.percent.is_finite():
            raise InvalidAmount(
                f"fee policy 'percent' must be a finite Decimal, got {self.percent!r}"
            )
        if not Decimal(0) <= self.percent <= Decimal(100):
            raise InvalidAmount(
                f"fee policy 'percent' must be between 0 and 100, got {self.percent}"
            )
        if isinstance(self.fixed_minor, bool) or not isinstance(self.fixed_minor, int):
            raise InvalidAmount(
                f"fee policy 'fixed_minor' must be an int, got {self.fixed_minor!r}"
            )
        if not 0 <= self.fixed_minor <= MAX_FIXED_FEE_MINOR:
            raise InvalidAmount(
                f"fee policy 'fixed_minor' must be between 0 and {MAX_FIXED_FEE_MINOR} minor "
                f"units, got {self.fixed_minor}"
            )
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
