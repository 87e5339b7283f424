"""Series packages: several events sold together at one package price, and how it splits.

A series names two or more events in one currency and a package price per class code ("SPL"):
a buyer who takes the package for some codes enters the class of each code at every event of
the series, and pays the sum of those codes' package prices.

The package price is one payment but it belongs to several events (each may be another
organizer's, refunds and transfers work per event), so it is split into one line per event
(``allocate_package``, docs/decisions.md "Series packages"):

- each event's share is proportional to what the same classes would cost the same buyer at
  that event bought alone (``pricing.unit_price``: member or non-member, early bird included),
  by largest remainder (``Money.allocate``): the shares add up to the package price exactly,
  and none is negative;
- when every event would cost nothing alone, the package is split equally (earlier events get
  the extra minor units).

What must not live here: loading series, which events are open (``catalog.Event``) and
counting places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eventpay.domain.errors import DomainError
from eventpay.domain.money import Money, sum_money

MIN_EVENTS = 2
MAX_EVENTS = 20
MAX_NAME = 120
MAX_CODES = 20
MAX_PRICE = 10**10
"""Minor units; far beyond any package, within the 64-bit column."""


class SeriesRefused(DomainError):
    """A series or a package request broke a rule; ``field`` names the input."""

    def __init__(self, code: str, field: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.extra = extra

    @property
    def details(self) -> dict[str, str]:
        return {"field": self.field, **self.extra}


def class_code(raw: str) -> str:
    """A class code as series compare them: stripped and upper-cased ("spl" is "SPL")."""
    return raw.strip().upper()


def check_event_ids(event_ids: Sequence[str]) -> None:
    """A series has 2 to 20 events, each once."""
    if not MIN_EVENTS <= len(event_ids) <= MAX_EVENTS:
        raise SeriesRefused(
            "invalid_series", "event_ids", f"a series has {MIN_EVENTS} to {MAX_EVENTS} events"
        )
    if len(set(event_ids)) != len(event_ids):
        raise SeriesRefused("invalid_series", "event_ids", "an event appears twice")


@dataclass(frozen=True, slots=True)
class SeriesTerms:
    """What an organizer sells: ``name``, ``event_ids`` (in order) and the package price of
    each class code, all in ``currency``."""

    name: str
    event_ids: tuple[str, ...]
    currency: str
    prices: Mapping[str, Money]

    def __post_init__(self) -> None:
        name = " ".join(self.name.split())
        if not 1 <= len(name) <= MAX_NAME:
            raise SeriesRefused("invalid_series", "name", f"a name is 1 to {MAX_NAME} characters")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "event_ids", tuple(self.event_ids))
        check_event_ids(self.event_ids)
        if not 1 <= len(self.prices) <= MAX_CODES:
            raise SeriesRefused(
                "invalid_series", "prices", f"a series prices 1 to {MAX_CODES} class codes"
            )
        prices: dict[str, Money] = {}
        for raw, price in self.prices.items():
            code = class_code(raw)
            if not 1 <= len(code) <= 32 or code in prices:
                raise SeriesRefused(
                    "invalid_series", f"prices.{raw}", "a class code is 1 to 32 characters, once"
                )
            if price.currency != Money.zero(self.currency).currency:
                raise SeriesRefused(
                    "currency_mismatch", f"prices.{raw}", f"prices must be in {self.currency}"
                )
            if not 0 <= price.amount <= MAX_PRICE:
                raise SeriesRefused(
                    "invalid_series", f"prices.{raw}", f"a price is 0 to {MAX_PRICE} minor units"
                )
            prices[code] = price
        object.__setattr__(self, "prices", prices)

    def package_price(self, codes: Sequence[str]) -> Money:
        """What the package costs for ``codes`` (each once, each priced by this series)."""
        if not 1 <= len(codes) <= MAX_CODES:
            raise SeriesRefused("invalid_series_item", "class_codes", "name 1 to 20 class codes")
        seen: set[str] = set()
        for raw in codes:
            code = class_code(raw)
            if code in seen:
                raise SeriesRefused(
                    "invalid_series_item", "class_codes", f"{code} is named twice", class_code=code
                )
            if code not in self.prices:
                raise SeriesRefused(
                    "series_class_not_offered",
                    "class_codes",
                    f"this series has no package for {code}",
                    class_code=code,
                )
            seen.add(code)
        return sum_money((self.prices[code] for code in seen), self.currency)


def allocate_package(price: Money, standalone: Sequence[Money]) -> tuple[Money, ...]:
    """``price`` split over the events whose stand-alone prices are ``standalone``: in
    proportion by largest remainder, or equally when they are all zero. The shares sum to
    ``price`` exactly and none is negative."""
    if not standalone:
        raise ValueError("a package has at least one event")
    if price.is_negative() or any(amount.is_negative() for amount in standalone):
        raise ValueError("package and stand-alone prices must not be negative")
    if sum(amount.amount for amount in standalone) == 0:
        return tuple(price.split(len(standalone)))
    return tuple(price.allocate([amount.amount for amount in standalone]))
