"""PayPal money: decimal strings on the wire, integer minor units inside the sandbox.

PayPal sends amounts as `{"currency_code": "USD", "value": "12.50"}`. The sandbox parses each
value once into minor units (an `int`) and formats it back with the currency's exponent, so no
arithmetic ever happens on floats or strings. The rules follow PayPal's currency-codes page:
only the currencies listed there are taken (anything else, ISK or KWD say, is
INVALID_CURRENCY_CODE, as the Orders and Payments specifications name it); HUF, JPY and TWD
take no decimals (DECIMALS_NOT_SUPPORTED; Orders call it DECIMAL_PRECISION); the others take
at most two (`"12.5"` is accepted and echoed as `"12.50"`, `"12.505"` is DECIMAL_PRECISION).
`format_minor` writes any ISO 4217 currency with its own digits (`"1.005"` KWD, `"5"` ISK):
PayPal's money type allows thousandths ("currencies like TND"), and nothing the sandbox writes
may drop a digit. Fees are the sandbox's own approximation of PayPal's standard rate, rounded
half up where applied. No HTTP, no state.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Currencies PayPal's REST APIs accept, with their exponent (digits after the decimal point).
_TWO_DECIMALS = (
    "AUD BRL CAD CNY CZK DKK EUR HKD ILS MYR MXN NZD NOK PHP PLN GBP SGD SEK CHF THB USD"
)
EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMALS.split(" "), 2),
    **dict.fromkeys(("HUF", "JPY", "TWD"), 0),
}

# ISO 4217 digits of currencies PayPal does not take, for writing them faithfully anyway.
ISO_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLP", "ISK", "KRW", "PYG", "RWF", "UGX", "VND", "XAF", "XOF", "XPF"), 0),
    **EXPONENTS,
}

# The `money.value` pattern of PayPal's specifications.
_VALUE = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")
MAX_VALUE_LENGTH = 32

# Standard PayPal checkout pricing (US): 3.49 % plus a fixed fee per transaction.
FEE_RATE = Decimal("0.0349")
FIXED_FEE = 49  # minor units in two-decimal currencies (0.49 USD), whole units otherwise
# Payouts: 2 % of each item, at least 0.25 and at most 20.00 in two-decimal currencies.
PAYOUT_FEE_RATE = Decimal("0.02")


class MoneyProblem(ValueError):
    """A value PayPal would refuse; `issue` is PayPal's issue code for it."""

    def __init__(self, issue: str, message: str) -> None:
        super().__init__(message)
        self.issue = issue


def exponent(currency: str) -> int:
    if currency not in EXPONENTS:
        raise MoneyProblem("INVALID_CURRENCY_CODE", f"unsupported currency {currency!r}")
    return EXPONENTS[currency]


def parse(value: Any, currency: Any) -> int:
    """Minor units for a PayPal `value` in `currency`; the sign is the caller's business."""
    if not isinstance(currency, str) or len(currency) != 3:
        raise MoneyProblem("INVALID_CURRENCY_CODE", "currency_code must be 3 letters")
    digits = exponent(currency)
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH or not _VALUE.match(value):
        raise MoneyProblem("INVALID_PARAMETER_SYNTAX", f"not a decimal string: {value!r}")
    whole, _, fraction = value.partition(".")
    if "." in value and digits == 0:
        raise MoneyProblem("DECIMALS_NOT_SUPPORTED", f"{currency} takes no decimals")
    if len(fraction) > digits:
        raise MoneyProblem("DECIMAL_PRECISION", f"{currency} takes at most {digits} decimals")
    negative = whole.startswith("-")
    scale: int = 10**digits
    units = int(whole.lstrip("-") or "0") * scale + int(fraction.ljust(digits, "0") or "0")
    return -units if negative else units


def format_minor(minor: int, currency: str) -> str:
    """`1250, "USD"` → `"12.50"`; `1000, "JPY"` → `"1000"`; `1005, "KWD"` → `"1.005"`."""
    digits = ISO_EXPONENTS[currency] if currency in ISO_EXPONENTS else exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


def amount(minor: int, currency: str) -> dict[str, str]:
    """The v2 money object `{"currency_code", "value"}`."""
    return {"currency_code": currency, "value": format_minor(minor, currency)}


def payout_amount(minor: int, currency: str) -> dict[str, str]:
    """The Payouts v1 currency object `{"currency", "value"}`."""
    return {"currency": currency, "value": format_minor(minor, currency)}


def share(minor: int, rate: Decimal) -> int:
    """`rate` of `minor`, rounded half up to a whole minor unit."""
    rounded: Decimal = (Decimal(minor) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(rounded)


def checkout_fee(gross_minor: int, currency: str) -> int:
    """PayPal's fee on a capture: percentage plus fixed part, never more than the gross."""
    digits = exponent(currency)
    fixed = FIXED_FEE * 10 ** (digits - 2) if digits >= 2 else FIXED_FEE
    return min(gross_minor, share(gross_minor, FEE_RATE) + fixed)


def payout_fee(minor: int, currency: str) -> int:
    """The fee on one payout item (2 %, between 0.25 and 20.00 in two-decimal currencies)."""
    scale = 10 ** exponent(currency) // 100 if exponent(currency) else 1
    low, high = 25 * scale, 2000 * scale
    return max(low, min(high, share(minor, PAYOUT_FEE_RATE)))
