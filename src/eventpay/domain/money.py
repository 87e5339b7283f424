"""Money: an integer amount of a currency's minor unit plus a lowercase ISO 4217 code.

What lives here: the ``Money`` value, the supported currencies and their exponents, the named
rounding rules used wherever a rate is applied, and exact allocation of an amount into shares.

What must not: floats (anywhere, including rates), rounding that is not named at the call site,
and provider-specific quirks (a provider that treats a currency's exponent differently from
ISO 4217 converts at its own boundary).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from eventpay.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# Grouped by exponent; one space-separated string per group keeps the table readable.
_EXPONENT_GROUPS: dict[int, str] = {
    0: "jpy krw vnd clp isk ugx pyg rwf xaf xof xpf",
    2: (
        "usd eur gbp cad aud nzd chf sek nok dkk mxn brl inr sgd hkd pln czk"
        " huf ron zar ils thb php myr aed sar cny twd try"
    ),
    3: "kwd bhd jod omr tnd iqd lyd",
}

CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {code: exponent for exponent, codes in _EXPONENT_GROUPS.items() for code in codes.split()}
)
"""Digits after the decimal point of each supported currency's major unit (ISO 4217)."""

# Amounts and rates with more integer digits than this are refused: far beyond any real payment,
# and without a bound "1E+999999999" would make the exact arithmetic build a gigantic integer.
_MAX_DIGITS = 30


class Rounding(StrEnum):
    """The rounding rules a rate may be applied with; symmetric around zero.

    ``DOWN`` is toward zero and ``UP`` away from zero (not floor and ceiling), and
    ``HALF_UP`` rounds ties away from zero, so a refund's amount is the mirror image of the
    charge it reverses.
    """

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_rounding(self) -> str:
        """The ``decimal`` module's constant for this rule."""
        return _DECIMAL_ROUNDING[self]


_DECIMAL_ROUNDING: Mapping[Rounding, str] = MappingProxyType(
    {
        Rounding.HALF_UP: decimal.ROUND_HALF_UP,
        Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
        Rounding.DOWN: decimal.ROUND_DOWN,
        Rounding.UP: decimal.ROUND_UP,
    }
)

# Products of an integer and a Decimal are exact in this context, so the only rounding that
# ever happens is the explicit one named by a ``Rounding``.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Overflow],
)


def _require_int(value: object, what: str) -> int:
    # bool is an int subclass, but True as an amount is always a bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{what} must be an int of minor units, got {type(value).__name__}")
    return value


def _normalise_currency(currency: object) -> str:
    if not isinstance(currency, str):
        raise UnknownCurrency(currency)
    code = currency.lower()
    if code not in CURRENCY_EXPONENTS:
        raise UnknownCurrency(currency)
    return code


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``amount`` minor units (cents, yen, fils) of ``currency``.

    Negative amounts are allowed so that credits and refund arithmetic stay in ``Money``;
    rules that need a non-negative amount check it themselves.
    """

    amount: int
    currency: str

    def __post_init__(self) -> None:
        _require_int(self.amount, "amount")
        object.__setattr__(self, "currency", _normalise_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str) -> Money:
        """Build from major units exactly: ``("12.50", "usd")`` is 1250 cents.

        Refuses floats, and any value that is not a whole number of minor units ("12.505" usd).
        Trailing zeros are fine ("12.500" usd is exactly 1250 cents).
        """
        code = _normalise_currency(currency)
        number = _to_decimal(value)
        sign, digits, exponent = number.as_tuple()
        assert isinstance(exponent, int)  # _to_decimal refused NaN and infinities
        coefficient = int("".join(map(str, digits)))
        shift = exponent + CURRENCY_EXPONENTS[code]
        if coefficient == 0:
            return cls(0, code)
        if shift >= 0:
            if len(digits) + shift > _MAX_DIGITS:
                raise InvalidAmount(f"amount too large: {value!r}")
            minor = coefficient * 10**shift
        else:
            if -shift > len(digits):
                raise InvalidAmount(f"{value!r} is not a whole number of {code} minor units")
            minor, remainder = divmod(coefficient, 10**-shift)
            if remainder:
                raise InvalidAmount(f"{value!r} is not a whole number of {code} minor units")
        return cls(-minor if sign else minor, code)

    @property
    def exponent(self) -> int:
        """Digits after the decimal point in the major unit (2 for usd, 0 for jpy)."""
        return CURRENCY_EXPONENTS[self.currency]

    def to_decimal(self) -> Decimal:
        """The amount in major units, with exactly ``exponent`` fractional digits."""
        sign, digits, _ = Decimal(self.amount).as_tuple()
        return Decimal((sign, digits, -self.exponent))

    def to_decimal_string(self) -> str:
        """Major units as providers expect them: "12.50", "1000" (jpy), "1.005" (kwd)."""
        return format(self.to_decimal(), "f")

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency.upper()}"

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_positive(self) -> bool:
        return self.amount > 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: int) -> Money:
        # Only whole multiples: a fractional factor needs a named rounding (``apply_rate``).
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount >= other.amount

    def apply_rate(self, rate: Decimal, rounding: Rounding) -> Money:
        """``amount * rate`` rounded once, to a whole minor unit, by the named rule."""
        if not isinstance(rate, Decimal) or not rate.is_finite():
            raise InvalidAmount(f"rate must be a finite Decimal, got {rate!r}")
        if rate.adjusted() > _MAX_DIGITS:
            raise InvalidAmount(f"rate too large: {rate!r}")
        rule = Rounding(rounding).decimal_rounding
        product = _EXACT.multiply(Decimal(self.amount), rate)
        rounded = product.quantize(Decimal(1), rounding=rule, context=_EXACT)
        return Money(int(rounded), self.currency)

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into shares proportional to ``ratios`` that sum exactly to this amount.

        Largest-remainder method: each share gets the floor of its exact part, and the units
        left over go one each to the shares with the largest remainders, earlier shares first
        on ties. A zero ratio always gets zero. A negative amount is allocated as the mirror
        image of its absolute value, so shares never mix signs.
        """
        weights = [_require_ratio(ratio) for ratio in ratios]
        whole = sum(weights)
        if whole == 0:
            raise ValueError("ratios must not be empty or all zero")
        magnitude = abs(self.amount)
        shares = [magnitude * weight // whole for weight in weights]
        remainders = [magnitude * weight % whole for weight in weights]
        leftover = magnitude - sum(shares)
        by_remainder = sorted(range(len(weights)), key=lambda index: (-remainders[index], index))
        for index in by_remainder[:leftover]:
            shares[index] += 1
        sign = -1 if self.amount < 0 else 1
        return [Money(sign * share, self.currency) for share in shares]

    def split(self, n: int) -> list[Money]:
        """``n`` parts differing by at most one minor unit; earlier parts get the extra units."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"split needs a whole number of parts >= 1, got {n!r}")
        return self.allocate([1] * n)


def _require_ratio(ratio: object) -> int:
    if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 0:
        raise ValueError(f"ratios must be non-negative ints, got {ratio!r}")
    return ratio


def _to_decimal(value: object) -> Decimal:
    # float is refused even when it looks exact: 0.1 is not 1/10, and accepting "safe" floats
    # would make the rule depend on the value instead of the type.
    if isinstance(value, (bool, float)):
        raise InvalidAmount(f"amount must be a Decimal, str or int, got {type(value).__name__}")
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise InvalidAmount(f"not a decimal number: {value!r}") from None
    elif isinstance(value, (Decimal, int)):
        number = Decimal(value)
    else:
        raise InvalidAmount(f"amount must be a Decimal, str or int, got {type(value).__name__}")
    if not number.is_finite():
        raise InvalidAmount(f"amount must be finite, got {value!r}")
    return number


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Total of ``items``; zero of ``currency`` when empty; ``CurrencyMismatch`` if mixed."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
