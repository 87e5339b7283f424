"""Money at PayPal's boundary: `Money` to and from PayPal's decimal-string amounts.

PayPal writes amounts as strings of major units with the currency's ISO 4217 exponent
("12.50" USD, "1000" JPY, "1.005" KWD) and upper-case currency codes. Orders, Payments,
Disputes and Invoicing spell the pair `{currency_code, value}`; Payouts spells it
`{currency, value}`. Conversion goes through the domain's `Money` only: never a float.

One PayPal quirk lives here, as the domain asks of provider quirks: PayPal refuses decimals in
HUF and TWD even though ISO 4217 gives them two digits, so only whole forints and dollars can
be sent; an amount with cents is refused here, before any call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventpay.domain import Money, MoneyError
from eventpay.ports import ProviderRejected

__all__ = [
    "UnsupportedAmount",
    "from_paypal",
    "to_payouts",
    "to_paypal",
    "value_string",
]

# PayPal's "decimals not supported" currencies that ISO 4217 gives a minor unit.
_WHOLE_UNITS_ONLY = frozenset({"huf", "twd"})


class UnsupportedAmount(ProviderRejected):
    """An amount PayPal cannot represent; refused before any call, so nothing happened."""

    def __init__(self, money: Money) -> None:
        super().__init__(
            "unsupported_amount",
            f"PayPal takes only whole units of {money.currency.upper()}, not {money}",
        )


def value_string(money: Money) -> str:
    """PayPal's `value` for `money`: "12.50", "1000" (jpy), "1.005" (kwd), "123" (huf)."""
    if money.currency in _WHOLE_UNITS_ONLY:
        whole, cents = divmod(money.amount, 10**money.exponent)
        if cents:
            raise UnsupportedAmount(money)
        return str(whole)
    return money.to_decimal_string()


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
