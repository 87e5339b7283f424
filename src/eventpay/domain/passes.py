"""Spectator passes and VIP upgrades: which days a pass admits to, when it is on sale, what
it and an upgrade cost.

An event's days are the calendar dates, in the event's time zone, from its start to its end (a
one-day event: its start date). The gate has a capacity per day (stock `gate:<event>:<date>`);
a pass type admits to some of those days (1, 2, 3 or all of them), and a pass sold takes one
place on each of its days. A pass is on sale from the event's registration opening until its
last day is over (midnight of that day in the event's time zone): spectators buy at the gate,
after competitors' registration has closed.

A VIP upgrade turns a paid registration into a VIP one: the buyer pays, per class, the VIP
price less what the class was charged in the original order (net of its discount), never less
than zero; one VIP place (stock `vip:<event>`) per registration.

What must not live here: counting places (`ports.places`), who may set a pass up, and storing
anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from eventpay.domain.catalog import Event
from eventpay.domain.catalog_rules import max_price
from eventpay.domain.deadlines import has_passed, has_started
from eventpay.domain.errors import DomainError
from eventpay.domain.money import Money, sum_money
from eventpay.domain.pricing import LineKind, QuoteLine

MAX_PASS_QUANTITY = 20
"""Passes of one type in one order item: a family or a club, not a reseller."""
MAX_NAME_LENGTH = 100


class PassError(DomainError):
    """A pass or VIP set-up refused; ``field`` names the input at fault."""

    code = "invalid_pass"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field

    @property
    def details(self) -> dict[str, str]:
        return {"field": self.field}


class PassNotOnSale(DomainError):
    """Outside the pass's sale window: ``pass_sales_not_open`` or ``pass_sales_closed``."""

    def __init__(self, reason: Literal["not_yet_open", "closed"], pass_id: str) -> None:
        self.code = "pass_sales_not_open" if reason == "not_yet_open" else "pass_sales_closed"
        self.pass_id = pass_id
        when = "are not on sale yet" if reason == "not_yet_open" else "are no longer on sale"
        super().__init__(f"passes of this type {when}")

    @property
    def details(self) -> dict[str, str]:
        return {"pass_id": self.pass_id}


class VipNotOffered(DomainError):
    """A class of the registration has no VIP price."""

    code = "vip_not_offered"

    def __init__(self, class_id: str) -> None:
        self.class_id = class_id
        super().__init__(f"class {class_id!r} has no VIP upgrade")

    @property
    def details(self) -> dict[str, str]:
        return {"class_id": self.class_id}


class VipSalesClosed(DomainError):
    """The event is over: there is nothing left to upgrade."""

    code = "vip_sales_closed"

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__("the event is over: VIP upgrades are no longer sold")

    @property
    def details(self) -> dict[str, str]:
        return {"event_id": self.event_id}


def gate_stock_id(event_id: str, day: date) -> str:
    """The stock item of the gate's places on one day of an event."""
    return f"gate:{event_id}:{day.isoformat()}"


def vip_stock_id(event_id: str) -> str:
    """The stock item of an event's VIP places (one per upgraded registration)."""
    return f"vip:{event_id}"


def event_days(event: Event) -> tuple[date, ...]:
    """The event's dates in its own time zone, first to last."""
    zone = ZoneInfo(event.timezone)
    first = event.starts_at.astimezone(zone).date()
    last = first if event.ends_at is None else event.ends_at.astimezone(zone).date()
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def resolve_days(event: Event, asked: Sequence[str] | str) -> tuple[date, ...]:
    """The days a new pass type admits to: ``"all"`` or a list of ISO dates of the event,
    each once; sorted."""
    days = event_days(event)
    if isinstance(asked, str):
        if asked != "all":
            raise PassError('days must be "all" or a list of dates', field="days")
        return days
    if not asked:
        raise PassError("a pass admits to at least one day", field="days")
    chosen: list[date] = []
    for text in asked:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise PassError(f"{text!r} is not a date (YYYY-MM-DD)", field="days") from None
        if day not in days:
            listed = ", ".join(d.isoformat() for d in days)
            raise PassError(f"{day} is not a day of the event ({listed})", field="days")
        if day in chosen:
            raise PassError(f"{day} is listed twice", field="days")
        chosen.append(day)
    return tuple(sorted(chosen))


def check_name(name: str) -> str:
    """A pass type's name, trimmed: 1 to 100 characters."""
    trimmed = name.strip()
    if not 1 <= len(trimmed) <= MAX_NAME_LENGTH:
        raise PassError(f"the name must be 1 to {MAX_NAME_LENGTH} characters", field="name")
    return trimmed


def check_price(price: Money, event: Event, *, field: str) -> Money:
    """A set-up price: in the event's currency, 0 to the catalog's highest price."""
    if price.currency != event.currency:
        raise PassError(f"must be in the event's currency ({event.currency})", field=field)
    if price.is_negative() or price > max_price(event.currency):
        raise PassError(f"must be 0 to {max_price(event.currency)}", field=field)
    return price


@dataclass(frozen=True, slots=True)
class PassType:
    """A kind of pass an event sells: its name, unit price and the days it admits to."""

    id: str
    event_id: str
    name: str
    price: Money
    days: tuple[date, ...]

    def stock_ids(self) -> tuple[str, ...]:
        return tuple(gate_stock_id(self.event_id, day) for day in self.days)


def end_of(event: Event, day: date) -> datetime:
    """The instant `day` is over where the event takes place (the next local midnight)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(event.timezone))


def check_on_sale(event: Event, pass_type: PassType, now: datetime) -> None:
    """Raise `PassNotOnSale` outside [registration opening, end of the pass's last day)."""
    if not has_started(event.registration_opens_at, now):
        raise PassNotOnSale("not_yet_open", pass_type.id)
    if has_passed(end_of(event, pass_type.days[-1]), now):
        raise PassNotOnSale("closed", pass_type.id)


def check_vip_on_sale(event: Event, now: datetime) -> None:
    """Raise `VipSalesClosed` once the event's last day is over."""
    if has_passed(end_of(event, event_days(event)[-1]), now):
        raise VipSalesClosed(event.id)


def pass_line(event: Event, pass_type: PassType, quantity: int) -> QuoteLine:
    """The one line of `quantity` passes: the unit price times the quantity."""
    if not 1 <= quantity <= MAX_PASS_QUANTITY:
        raise PassError(f"quantity must be 1 to {MAX_PASS_QUANTITY}", field="quantity")
    label = "pass" if quantity == 1 else "passes"
    return QuoteLine(
        kind=LineKind.PASS,
        description=f"{event.name} — {pass_type.name} x {quantity} {label}",
        amount=pass_type.price * quantity,
        event_id=event.id,
    )


def places_left(lefts: Iterable[int | None]) -> int | None:
    """Passes of a type still to be had: the fewest places left over its days (None: no
    day is limited)."""
    limited = [left for left in lefts if left is not None]
    return min(limited) if limited else None


@dataclass(frozen=True, slots=True)
class ChargedClass:
    """A class of a paid registration: its VIP price (None: not offered) and what the
    original order charged for it, net of its discount."""

    class_id: str
    vip_price: Money | None
    charged: Money


def vip_upgrade_price(currency: str, classes: Sequence[ChargedClass]) -> Money:
    """What upgrading costs: per class, the VIP price less what was charged, at least 0."""
    owed: list[Money] = []
    for c in classes:
        if c.vip_price is None:
            raise VipNotOffered(c.class_id)
        difference = c.vip_price - c.charged
        owed.append(difference if difference.is_positive() else Money.zero(currency))
    return sum_money(owed, currency)


def charged_per_class(
    lines: Iterable[tuple[str | None, Money]], class_ids: Sequence[str], currency: str
) -> dict[str, Money]:
    """What an order charged for each of `class_ids`, from its (class id, net amount) lines.

    When the order charged a class on several lines (a team's members entered in the same
    class), the lowest is taken: the buyer is never credited more than one entry cost. A class
    without a line of its own (a package priced as a whole) counts as charged nothing.
    """
    found: dict[str, Money] = {}
    for class_id, net in lines:
        if class_id is None or class_id not in class_ids:
            continue
        if class_id not in found or net < found[class_id]:
            found[class_id] = net
    return {class_id: found.get(class_id, Money.zero(currency)) for class_id in class_ids}


def vip_line(event: Event, class_codes: Sequence[str], amount: Money) -> QuoteLine:
    """The one line of a VIP upgrade."""
    return QuoteLine(
        kind=LineKind.VIP_UPGRADE,
        description=f"{event.name} — VIP upgrade ({', '.join(class_codes)})",
        amount=amount,
        event_id=event.id,
    )
