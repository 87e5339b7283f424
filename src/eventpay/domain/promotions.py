"""Promo codes: what a code looks like, the terms an organizer sets, and how a discount splits.

A code is compared in one form only (``normalize_code``: stripped, upper-case ASCII), so
"spring-10" and " SPRING-10 " are the same code. ``PromoTerms`` refuses terms that could never
be honoured (both or neither kind of discount, a percentage above 100, a window that ends before
it starts, a limit below one), naming the field, so an organizer learns at creation and not
from a buyer.

``allocate_discount`` decides what each line of an order loses:

- the eligible lines are the code's event's priced lines of the kind it applies to (fee lines
  never: the platform fee is computed from what remains) with a positive amount;
- a percentage is applied once, to the eligible lines' sum, rounded ``HALF_UP`` to the minor
  unit (the one rounding, named here); a fixed amount is capped at that sum;
- the total is shared over the eligible lines in proportion to their amounts by largest
  remainder (``Money.allocate``), so the line discounts add up to the total exactly and none
  exceeds its line.

What must not live here: counting uses (the database does, atomically: ``ports.promos``) and
reading the clock (``check_window`` is given ``now``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from eventpay.domain.errors import (
    CurrencyMismatch,
    InvalidPromoCode,
    PromoCodeExpired,
    PromoCodeNotApplicable,
    PromoCodeNotYetValid,
)
from eventpay.domain.money import Money, Rounding, sum_money
from eventpay.domain.pricing import LineKind, QuoteLine

CODE_PATTERN = re.compile(r"[A-Z0-9_-]{3,64}")
MAX_LIMIT = 1_000_000_000
"""More uses than any code will see; a limit above it is a typing error (and an int32 column)."""
MAX_AMOUNT_OFF = 10**12
"""Minor units; far beyond any order, and within the 64-bit column."""
_HUNDRED = Decimal(100)
_CENT_OF_A_PERCENT = Decimal("0.01")


def normalize_code(raw: str) -> str:
    """The stored form of a code: stripped, upper-cased, 3-64 of ``A-Z 0-9 - _``."""
    stripped = raw.strip()
    # Checked before upper-casing: a dotless i upper-cases to "I", and a code has one spelling.
    code = stripped.upper() if stripped.isascii() else stripped
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidPromoCode("code", "a promo code is 3 to 64 letters, digits, '-' or '_'")
    return code


def discountable_kinds() -> frozenset[str]:
    """The line kinds a code may be limited to: every priced kind, never the fee."""
    return frozenset(kind.value for kind in LineKind if kind is not LineKind.FEE)


def _limit(value: int | None, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidPromoCode(field, f"{field} must be a whole number from 1 to {MAX_LIMIT}")


_MIN_YEAR, _LATEST_YEAR = 1, 2200
"""Instants outside these years are typing errors (and overflow when moved to UTC)."""


def _aware(value: datetime | None, field: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class PromoTerms:
    """What a code takes off and when: ``percent_off`` (0 < p <= 100, at most two decimals) or
    ``amount_off`` (positive), on the lines of ``applies_to`` kind (None: every priced line),
    from ``valid_from`` (inclusive) until ``valid_until`` (exclusive), at most ``max_uses``
    times in all and ``max_uses_per_buyer`` times per buyer (None: no limit)."""

    percent_off: Decimal | None = None
    amount_off: Money | None = None
    applies_to: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = None
    max_uses_per_buyer: int | None = None

    def __post_init__(self) -> None:
        if (self.percent_off is None) == (self.amount_off is None):
            raise InvalidPromoCode("percent_off", "give exactly one of percent_off and amount_off")
        if self.percent_off is not None:
            _check_percent(self.percent_off)
        if self.amount_off is not None and not 0 < self.amount_off.amount <= MAX_AMOUNT_OFF:
            raise InvalidPromoCode("amount_off", "amount_off must be a positive amount")
        if self.applies_to is not None and self.applies_to not in discountable_kinds():
            kinds = ", ".join(sorted(discountable_kinds()))
            raise InvalidPromoCode("applies_to", f"applies_to must be one of: {kinds}")
        _aware(self.valid_from, "valid_from")
        _aware(self.valid_until, "valid_until")
        for field, moment in (("valid_from", self.valid_from), ("valid_until", self.valid_until)):
            if moment is not None and not _MIN_YEAR < moment.year < _LATEST_YEAR:
                raise InvalidPromoCode(
                    field, f"{field} must be after {_MIN_YEAR} and before {_LATEST_YEAR}"
                )
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from >= self.valid_until
        ):
            raise InvalidPromoCode("valid_until", "valid_until must be after valid_from")
        _limit(self.max_uses, "max_uses")
        _limit(self.max_uses_per_buyer, "max_uses_per_buyer")

    @property
    def percent_off_bps(self) -> int | None:
        """The percentage in basis points (12.5 % is 1250), exact by construction."""
        if self.percent_off is None:
            return None
        return int(self.percent_off * _HUNDRED)


def _check_percent(percent: Decimal) -> None:
    if (
        not isinstance(percent, Decimal)
        or not percent.is_finite()
        or not 0 < percent <= _HUNDRED
        or percent != percent.quantize(_CENT_OF_A_PERCENT)
    ):
        raise InvalidPromoCode(
            "percent_off", "percent_off must be above 0 and at most 100, with two decimals at most"
        )


def percent_from_bps(bps: int) -> Decimal:
    """The percentage stored as basis points, without trailing zeros (1250 is 12.5)."""
    return Decimal(bps) / _HUNDRED


def check_window(terms: PromoTerms, now: datetime, *, code: str = "") -> None:
    """Refuse the code before ``valid_from`` and from ``valid_until`` on."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if terms.valid_from is not None and now < terms.valid_from:
        raise PromoCodeNotYetValid(code)
    if terms.valid_until is not None and now >= terms.valid_until:
        raise PromoCodeExpired(code)


def _eligible(line: QuoteLine, terms: PromoTerms, event_id: str) -> bool:
    return (
        line.event_id == event_id
        and line.kind != LineKind.FEE
        and (terms.applies_to is None or line.kind == terms.applies_to)
        and line.amount.is_positive()
    )


def allocate_discount(
    *, terms: PromoTerms, lines: Sequence[QuoteLine], event_id: str, code: str = ""
) -> tuple[Money, ...]:
    """One discount per line of ``lines`` (zero where the code does not apply) summing to the
    code's discount on ``event_id``'s eligible lines; ``PromoCodeNotApplicable`` if none."""
    chosen = [index for index, line in enumerate(lines) if _eligible(line, terms, event_id)]
    if not chosen:
        raise PromoCodeNotApplicable(code)
    currency = lines[chosen[0]].amount.currency
    base = sum_money((lines[index].amount for index in chosen), currency)
    if terms.percent_off is not None:
        total = base.apply_rate(terms.percent_off / _HUNDRED, Rounding.HALF_UP)
    else:
        assert terms.amount_off is not None  # PromoTerms holds exactly one kind
        if terms.amount_off.currency != currency:
            raise CurrencyMismatch(currency, terms.amount_off.currency)
        total = min(terms.amount_off, base)
    shares = total.allocate([lines[index].amount.amount for index in chosen])
    out = [Money.zero(line.amount.currency) for line in lines]
    for index, share in zip(chosen, shares, strict=True):
        out[index] = share
    return tuple(out)
