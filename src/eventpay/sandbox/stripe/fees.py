"""The Stripe processing fee the sandbox charges on a card payment: one documented, pure rule.

Stripe's standard card pricing in the US, the UK and the euro area is a percentage plus a fixed
amount (2.9 % + 30 cents in the US). The sandbox applies one rule to every currency so that fees
are predictable in tests; it is the sandbox's rule, not a quote of any country's price list:

- 2.9 % of the amount, rounded half up to the currency's API minor unit (`ROUND_HALF_UP`);
- plus a fixed part worth "30 of the smallest unit of a two-decimal currency": 30 minor units
  for two-decimal currencies (usd, eur, gbp, ...) and for zero-decimal ones (30 JPY), 300 for
  three-decimal ones (0.300 KWD), and 3000 for ISK and UGX, whose API amounts carry two decimals
  that must be 00 (30 ISK); for those two the percentage is also rounded to whole units;
- never more than the amount itself (Stripe's minimum charge amounts make that impossible there;
  the sandbox accepts amounts of 1, so it caps instead of producing a negative net).

Refunds do not return the fee (Stripe keeps the original payment's fee), so a refund's balance
transaction has a fee of 0. Nothing here reads sandbox state.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .currencies import THREE_DECIMAL, WHOLE_IN_TWO_DECIMALS

PERCENT = Decimal("2.9")
FIXED_MINOR_UNITS = 30


def _fixed(currency: str) -> int:
    if currency in THREE_DECIMAL:
        return FIXED_MINOR_UNITS * 10
    if currency in WHOLE_IN_TWO_DECIMALS:
        return FIXED_MINOR_UNITS * 100
    return FIXED_MINOR_UNITS


def stripe_fee(amount: int, currency: str) -> int:
    """Stripe's fee on a card payment of `amount` (API minor units of `currency`)."""
    if amount <= 0:
        return 0
    step = Decimal(100) if currency in WHOLE_IN_TWO_DECIMALS else Decimal(1)
    share = (Decimal(amount) * PERCENT / Decimal(100) / step).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    ) * step
    return min(amount, int(share) + _fixed(currency))


def fee_details(fee: int, currency: str) -> list[dict[str, object]]:
    """The `fee_details` list of a charge's balance transaction: one `stripe_fee` line."""
    if fee == 0:
        return []
    return [
        {
            "amount": fee,
            "application": None,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
