"""Money at PayPal's boundary: the one table of our currencies PayPal takes, and conversion.

PayPal writes amounts as strings of major units (`"12.50"` USD, `"1000"` JPY) with upper-case
currency codes; Orders, Payments, Disputes and Invoicing spell the pair `{currency_code,
value}`, Payouts `{currency, value}`. PayPal's currency-codes page
(developer.paypal.com/docs/api/reference/currency-codes/) lists the currencies its REST APIs
take, and marks HUF, JPY and TWD "does not support decimals: if you pass a decimal amount, an
error occurs" (Orders answer DECIMAL_PRECISION, refunds DECIMALS_NOT_SUPPORTED). So:

- `PAYPAL_DECIMALS` holds every currency of ours PayPal lists, with the digits PayPal writes:
  two for most; none for JPY (as ISO 4217), HUF and TWD (ISO gives them two: only whole
  forints and dollars can be sent). BRL, CNY and MYR are listed for in-country accounts only;
  they stay here and PayPal refuses them per merchant account.
- Absent means PayPal takes no payment in it: every three-decimal currency (KWD, BHD, JOD,
  OMR, TND, IQD, LYD), ISK, KRW, CLP, VND, INR, ZAR, AED, TRY... `refusal` says so in plain
  words before any call, and `to_paypal` refuses such an amount (`UnsupportedAmount`).

Conversion goes through the domain's `Money` only, exact both ways, never a float. Reading is
lenient about currencies (an amount PayPal reports is exact whatever it is); writing is strict.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from eventpay.domain import CURRENCY_EXPONENTS, Money, MoneyError
from eventpay.ports import ProviderRejected

__all__ = [
    "PAYPAL_DECIMALS",
    "UnsupportedAmount",
    "amount_step",
    "from_paypal",
    "refusal",
    "to_payouts",
    "to_paypal",
    "value_string",
]

_TWO_DECIMALS = (
    "aud brl cad cny czk dkk eur hkd ils myr mxn nzd nok php pln gbp sgd sek chf thb usd"
)
_NO_DECIMALS = "huf jpy twd"

PAYPAL_DECIMALS: Mapping[str, int] = MappingProxyType(
    {
        code: digits
        for digits, codes in ((2, _TWO_DECIMALS), (0, _NO_DECIMALS))
        for code in codes.split()
        if code in CURRENCY_EXPONENTS
    }
)
"""Our currencies PayPal takes, with the decimals PayPal accepts in a `value`."""


def refusal(money: Money) -> str | None:
    """Why PayPal cannot take `money`, in words for a buyer; None when it can."""
    code = money.currency.upper()
    digits = PAYPAL_DECIMALS.get(money.currency)
    if digits is None:
        return f"PayPal does not take payments in {code}."
    if money.amount % 10 ** (money.exponent - digits):
        return f"PayPal takes only whole {code} amounts, not {money.to_decimal_string()} {code}."
    return None


def amount_step(currency: str) -> int:
    """The step of the amounts PayPal takes in `currency`, in ISO minor units."""
    digits = PAYPAL_DECIMALS.get(currency.lower())
    exponent = CURRENCY_EXPONENTS.get(currency.lower(), 0)
    return 1 if digits is None else 10 ** max(exponent - digits, 0)


class UnsupportedAmount(ProviderRejected):
    """An amount PayPal cannot represent; refused before any call, so nothing happened."""

    def __init__(self, money: Money, why: str) -> None:
        super().__init__("unsupported_amount", why)
        self.money = money


def value_string(money: Money) -> str:
    """PayPal's `value` for `money`: "12.50" (usd), "1000" (jpy), "123" (huf, whole forints)."""
    why = refusal(money)
    if why is not None:
        raise UnsupportedAmount(money, why)
    digits = PAYPAL_DECIMALS[money.currency]
    if digits == money.exponent:
        return money.to_decimal_string()
    return str(money.amount // 10**money.exponent)  # exact: `refusal` saw no fraction


def to_paypal(money: Money) -> dict[str, str]:
    """The `{currency_code, value}` object of Orders, Payments, Disputes and Invoicing."""
    return {"currency_code": money.currency.upper(), "value": value_string(money)}


def to_payouts(money: Money) -> dict[str, str]:
    """The `{currency, value}` object of the Payouts API."""
    return {"currency": money.currency.upper(), "value": value_string(money)}


def from_paypal(amount: Mapping[str, Any]) -> Money:
    """`Money` from either spelling; `ValueError` when it is not an exact amount we know."""
    currency = amount.get("currency_code", amount.get("currency"))
    value = amount.get("value")
    if not isinstance(currency, str) or not isinstance(value, str):
        raise ValueError("a PayPal amount needs string currency and value")
    try:
        return Money.from_decimal(value, currency)
    except MoneyError as exc:
        raise ValueError(f"unusable PayPal amount: {exc}") from None
