"""Money at Stripe's boundary: the one table of how Stripe counts each of our currencies.

`Money` counts ISO 4217 minor units; Stripe's API counts "the currency's smallest unit" as
Stripe defines it (docs.stripe.com/currencies), which differs in documented places:
- zero-decimal currencies (JPY, KRW, VND, CLP, PYG, RWF, XAF, XOF, XPF): whole units, as ISO;
- special cases ISK and UGX: effectively zero-decimal (as ISO 4217 says) but, for backwards
  compatibility, written with two decimals that are always 00: 5 ISK is `500` at Stripe;
- special cases HUF and TWD: two-decimal for charges and refunds, as ISO; Stripe treats them as
  zero-decimal only for payouts, which this adapter does not make;
- three-decimal currencies (BHD, JOD, KWD, OMR, TND): thousandths, as ISO, but the last digit
  must be 0 (Stripe's payment partners take no finer amount);
- at most eight digits (99,999,999) in Stripe's unit, whatever the currency;
- IQD and LYD are not among Stripe's presentment currencies at all.
Conversion is exact both ways; anything else is refused before a call (`refusal`) or, coming
back from Stripe, treated as a malformed answer (`StripeUnitsError`). Never a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from eventpay.domain import CURRENCY_EXPONENTS, Money, MoneyError

__all__ = ["STRIPE_UNITS", "StripeUnit", "StripeUnitsError", "from_stripe", "refusal", "to_stripe"]

MAX_STRIPE_AMOUNT = 99_999_999


@dataclass(frozen=True, slots=True)
class StripeUnit:
    """How Stripe writes one of our currencies.

    `factor`: Stripe units per ISO minor unit (100 for ISK and UGX, else 1). `step`: the amounts
    Stripe takes are multiples of this many ISO minor units (10 for three-decimal currencies).
    """

    factor: int = 1
    step: int = 1


_TWO_DECIMALS_OF_WHOLE_UNITS = StripeUnit(factor=100)
_LAST_DIGIT_ZERO = StripeUnit(step=10)
_UNSUPPORTED = frozenset({"iqd", "lyd"})
_SPECIAL = {
    "isk": _TWO_DECIMALS_OF_WHOLE_UNITS,
    "ugx": _TWO_DECIMALS_OF_WHOLE_UNITS,
    **dict.fromkeys(("bhd", "jod", "kwd", "omr", "tnd"), _LAST_DIGIT_ZERO),
}

STRIPE_UNITS: Mapping[str, StripeUnit] = MappingProxyType(
    {
        code: _SPECIAL.get(code, StripeUnit())
        for code in CURRENCY_EXPONENTS
        if code not in _UNSUPPORTED
    }
)
"""Every currency of ours Stripe takes, with how it writes it; absent means Stripe refuses it."""


class StripeUnitsError(ValueError):
    """An amount that cannot cross the boundary in this direction."""


def refusal(money: Money) -> str | None:
    """Why Stripe cannot take `money`, in words for a buyer; None when it can."""
    unit = STRIPE_UNITS.get(money.currency)
    code = money.currency.upper()
    if unit is None:
        return f"Card payments through Stripe are not available in {code}."
    if money.amount % unit.step:
        smallest = Money(unit.step, money.currency).to_decimal_string()
        return f"Stripe takes {code} amounts only in steps of {smallest} {code}."
    if abs(money.amount) * unit.factor > MAX_STRIPE_AMOUNT:
        largest = Money(MAX_STRIPE_AMOUNT // unit.factor, money.currency).to_decimal_string()
        return f"Stripe takes at most {largest} {code} in one payment."
    return None


def amount_step(currency: str) -> int:
    """The step of the amounts Stripe takes in `currency`, in ISO minor units."""
    unit = STRIPE_UNITS.get(currency.lower())
    return 1 if unit is None else unit.step


def to_stripe(money: Money) -> int:
    """Stripe's `amount` for `money`; `StripeUnitsError` when `refusal(money)` is not None."""
    why = refusal(money)
    if why is not None:
        raise StripeUnitsError(why)
    return money.amount * STRIPE_UNITS[money.currency].factor


def from_stripe(amount: object, currency: object) -> Money:
    """`Money` from Stripe's `amount` and `currency`; `StripeUnitsError` when they are not an
    amount of a currency we know, exactly representable."""
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
        raise StripeUnitsError("a Stripe amount is an integer with a currency code")
    unit = STRIPE_UNITS.get(currency.lower())
    if unit is None:
        raise StripeUnitsError(f"Stripe answered in a currency we do not take: {currency!r}")
    whole, rest = divmod(amount, unit.factor)
    if rest:
        raise StripeUnitsError(f"{amount} is not a whole amount of {currency.upper()}")
    try:
        return Money(whole, currency)
    except MoneyError as exc:
        raise StripeUnitsError(str(exc)) from None
