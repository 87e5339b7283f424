"""What an organizer may set up: the rules an event draft must pass, each naming its field.

An organizer's input arrives as an ``EventDraft`` (ids may be missing; prices may name a
currency, or none, meaning the event's). ``problems`` lists every rule the draft breaks as a
``Problem`` whose ``path`` names the offending field (``("classes", 1,
"early_bird_deadline")``), so the API can answer a 422 the organizer can act on; ``build_event``
turns a draft without problems into the catalog's ``Event``. ``changes`` and ``class_changes``
say what an edit changed, for the audit log.

What must not live here: who may edit which event, whether orders already reference it (the
services know that), and storing anything. ``catalog.Event`` keeps its own structural checks as
a last line of defence; these rules are stricter and explain themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventpay.domain.catalog import MAX_CAPACITY, CompetitionClass, Event
from eventpay.domain.fee_policy import FeePolicy
from eventpay.domain.money import CURRENCY_EXPONENTS, Money

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""Event and class ids a client may choose: a lowercase slug of 1 to 64 characters."""
MAX_PRICE_MAJOR = 100_000
"""No entry costs more than 100,000 units of its currency: a bigger price is a typing error."""
MAX_PRICE_MINOR = MAX_PRICE_MAJOR * 100
"""The cap in minor units of a two-decimal currency; ``max_price`` scales it to any currency."""

PRICE_FIELDS = ("member_price", "non_member_price", "additional_class_price", "early_bird_price")
EVENT_FIELDS = (
    "name",
    "timezone",
    "currency",
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "refund_cutoff_at",
    "late_refund_fee_percent",
)
CLASS_FIELDS = ("code", "name", *PRICE_FIELDS, "early_bird_deadline", "capacity")

Path = tuple[str | int, ...]


LATEST_YEAR = 2200
"""Dates from this year on are typing errors (and a reserve added to 9999-12-31 overflows)."""


def max_price(currency: str) -> Money:
    """The highest price a class may have in ``currency``."""
    code = Money.zero(currency).currency
    return Money(MAX_PRICE_MAJOR * 10 ** CURRENCY_EXPONENTS[code], code)


@dataclass(frozen=True, slots=True)
class Price:
    """A price as an organizer gives it: minor units, in ``currency`` or (None) the event's."""

    amount: int
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class ClassDraft:
    id: str | None
    code: str
    name: str
    member_price: Price
    non_member_price: Price
    additional_class_price: Price | None = None
    early_bird_price: Price | None = None
    early_bird_deadline: datetime | None = None
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class EventDraft:
    id: str | None
    organizer_id: str | None  # None: the caller's own organizer
    name: str
    timezone: str
    currency: str
    starts_at: datetime
    registration_opens_at: datetime
    registration_closes_at: datetime
    refund_cutoff_at: datetime | None = None
    ends_at: datetime | None = None
    late_refund_fee_percent: Decimal | None = None
    classes: tuple[ClassDraft, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: where (``path``) and why (``message``)."""

    path: Path
    message: str

    @property
    def field(self) -> str:
        """The path as clients write it: ``classes[1].early_bird_deadline``."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


def problems(draft: EventDraft) -> list[Problem]:
    """Every rule ``draft`` breaks, event fields first, then each class in order."""
    return [*_event_problems(draft), *_classes_problems(draft)]


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a directory such as "America" is a path under the zone database, no zone.
        return False
    return True


def _event_problems(d: EventDraft) -> Iterator[Problem]:
    if d.id is not None and not ID_PATTERN.match(d.id):
        yield Problem(("id",), "must be a lowercase slug of 1 to 64 characters")
    if not d.name.strip():
        yield Problem(("name",), "must not be blank")
    if not _known_zone(d.timezone):
        yield Problem(("timezone",), f"unknown IANA time zone {d.timezone!r}")
    if d.currency.lower() not in CURRENCY_EXPONENTS:
        yield Problem(("currency",), f"unsupported currency {d.currency!r}")
    instants = {
        "starts_at": d.starts_at,
        "ends_at": d.ends_at,
        "registration_opens_at": d.registration_opens_at,
        "registration_closes_at": d.registration_closes_at,
        "refund_cutoff_at": d.refund_cutoff_at,
    }
    naive = [name for name, value in instants.items() if value is not None and not _is_aware(value)]
    for name in naive:
        yield Problem((name,), "must carry a UTC offset")
    if naive:
        return
    distant = [n for n, v in instants.items() if v is not None and v.year >= LATEST_YEAR]
    for name in distant:
        yield Problem((name,), f"must be before the year {LATEST_YEAR}")
    if distant:
        return
    if d.ends_at is not None and d.ends_at < d.starts_at:
        yield Problem(("ends_at",), "must not be before starts_at")
    if d.registration_opens_at >= d.registration_closes_at:
        yield Problem(("registration_closes_at",), "must be after registration_opens_at")
    if d.registration_closes_at > d.starts_at:
        yield Problem(("registration_closes_at",), "must not be after starts_at")
    if d.refund_cutoff_at is not None and d.refund_cutoff_at > d.starts_at:
        yield Problem(("refund_cutoff_at",), "must not be after starts_at")
    pct = d.late_refund_fee_percent
    if pct is not None and (
        not pct.is_finite() or not 0 <= pct <= 100 or pct * 100 != (pct * 100).to_integral_value()
    ):
        yield Problem(("late_refund_fee_percent",), "must be 0 to 100 with at most two decimals")


def _classes_problems(d: EventDraft) -> Iterator[Problem]:
    ids: set[str] = set()
    codes: set[str] = set()
    for index, c in enumerate(d.classes):
        at: Path = ("classes", index)
        if c.id is not None:
            if not ID_PATTERN.match(c.id):
                yield Problem((*at, "id"), "must be a lowercase slug of 1 to 64 characters")
            if c.id in ids:
                yield Problem((*at, "id"), f"class id {c.id!r} is given twice")
            ids.add(c.id)
        if not c.code.strip():
            yield Problem((*at, "code"), "must not be blank")
        if c.code.lower() in codes:
            yield Problem((*at, "code"), f"class code {c.code!r} is given twice")
        codes.add(c.code.lower())
        if not c.name.strip():
            yield Problem((*at, "name"), "must not be blank")
        yield from _price_problems(d, c, at)
        yield from _early_bird_problems(d, c, at)
        if c.capacity is not None and not 0 <= c.capacity <= MAX_CAPACITY:
            yield Problem((*at, "capacity"), f"must be 0 to {MAX_CAPACITY}, or null for no limit")


def _price_problems(d: EventDraft, c: ClassDraft, at: Path) -> Iterator[Problem]:
    event_currency = d.currency.lower()
    if event_currency not in CURRENCY_EXPONENTS:
        return  # named once, on the event's `currency`
    ceiling = max_price(event_currency).amount
    for name in PRICE_FIELDS:
        price: Price | None = getattr(c, name)
        if price is None:
            continue
        if price.currency is not None and price.currency.lower() != event_currency:
            yield Problem(
                (*at, name), f"the event is sold in {event_currency}, not {price.currency}"
            )
        elif price.amount < 0:
            yield Problem((*at, name), "must not be negative")
        elif price.amount > ceiling:
            yield Problem((*at, name), f"must not exceed {ceiling} minor units")


def _early_bird_problems(d: EventDraft, c: ClassDraft, at: Path) -> Iterator[Problem]:
    deadline = c.early_bird_deadline
    if (c.early_bird_price is None) != (deadline is None):
        missing = "early_bird_deadline" if deadline is None else "early_bird_price"
        yield Problem((*at, missing), "early_bird_price and early_bird_deadline go together")
    if deadline is None:
        return
    if not _is_aware(deadline):
        yield Problem((*at, "early_bird_deadline"), "must carry a UTC offset")
    elif _is_aware(d.starts_at) and deadline > d.starts_at:
        yield Problem((*at, "early_bird_deadline"), "must not be after the event starts")
    elif _is_aware(d.registration_opens_at) and deadline < d.registration_opens_at:
        yield Problem((*at, "early_bird_deadline"), "must not be before registration opens")


def _money(price: Price | None, currency: str) -> Money | None:
    return None if price is None else Money(price.amount, currency)


def build_event(
    draft: EventDraft,
    *,
    fee_policy: FeePolicy | None = None,
    payout_reserve_days: int | None = None,
) -> Event:
    """The catalog event of a draft that has no ``problems`` and whose ids are all set."""
    if draft.id is None or draft.organizer_id is None or any(c.id is None for c in draft.classes):
        raise ValueError("every id must be chosen before an event is built")
    cur = draft.currency.lower()
    extra: dict[str, Any] = {}
    if payout_reserve_days is not None:
        extra["payout_reserve_days"] = payout_reserve_days
    return Event(
        id=draft.id,
        organizer_id=draft.organizer_id,
        name=draft.name,
        timezone=draft.timezone,
        currency=cur,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        registration_opens_at=draft.registration_opens_at,
        registration_closes_at=draft.registration_closes_at,
        refund_cutoff_at=draft.refund_cutoff_at,
        late_refund_fee_percent=draft.late_refund_fee_percent,
        fee_policy=fee_policy,
        classes=tuple(
            CompetitionClass(
                id=str(c.id),
                code=c.code,
                name=c.name,
                member_price=Money(c.member_price.amount, cur),
                non_member_price=Money(c.non_member_price.amount, cur),
                additional_class_price=_money(c.additional_class_price, cur),
                early_bird_price=_money(c.early_bird_price, cur),
                early_bird_deadline=c.early_bird_deadline,
                capacity=c.capacity,
            )
            for c in draft.classes
        ),
        **extra,
    )


def _price(money: Money | None) -> Price | None:
    # No currency: a stored price is in whatever currency its event is sold in.
    return None if money is None else Price(money.amount)


def class_draft_of(c: CompetitionClass) -> ClassDraft:
    return ClassDraft(
        id=c.id,
        code=c.code,
        name=c.name,
        member_price=Price(c.member_price.amount),
        non_member_price=Price(c.non_member_price.amount),
        additional_class_price=_price(c.additional_class_price),
        early_bird_price=_price(c.early_bird_price),
        early_bird_deadline=c.early_bird_deadline,
        capacity=c.capacity,
    )


def draft_of(event: Event) -> EventDraft:
    """The draft an edit starts from: the event as it is."""
    return EventDraft(
        id=event.id,
        organizer_id=event.organizer_id,
        name=event.name,
        timezone=event.timezone,
        currency=event.currency,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        registration_opens_at=event.registration_opens_at,
        registration_closes_at=event.registration_closes_at,
        refund_cutoff_at=event.refund_cutoff_at,
        late_refund_fee_percent=event.late_refund_fee_percent,
        classes=tuple(class_draft_of(c) for c in event.classes),
    )


Change = tuple[Any, Any]
"""A field's value before and after an edit."""


def changes(old: Event, new: Event) -> dict[str, Change]:
    """The event's own fields (not its classes) that differ, with before and after."""
    return {
        name: (getattr(old, name), getattr(new, name))
        for name in EVENT_FIELDS
        if getattr(old, name) != getattr(new, name)
    }


@dataclass(frozen=True, slots=True)
class ClassChanges:
    added: tuple[CompetitionClass, ...]
    removed: tuple[CompetitionClass, ...]
    updated: dict[str, dict[str, Change]]  # by class id: field -> (before, after)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.updated)


def class_changes(old: Sequence[CompetitionClass], new: Sequence[CompetitionClass]) -> ClassChanges:
    """Which classes an edit added, removed, and changed (field by field)."""
    before = {c.id: c for c in old}
    after = {c.id: c for c in new}
    updated: dict[str, dict[str, Change]] = {}
    for class_id in before.keys() & after.keys():
        diff = {
            f.name: (getattr(before[class_id], f.name), getattr(after[class_id], f.name))
            for f in fields(CompetitionClass)
            if getattr(before[class_id], f.name) != getattr(after[class_id], f.name)
        }
        if diff:
            updated[class_id] = diff
    return ClassChanges(
        added=tuple(c for c in new if c.id not in before),
        removed=tuple(c for c in old if c.id not in after),
        updated=dict(sorted(updated.items())),
    )
