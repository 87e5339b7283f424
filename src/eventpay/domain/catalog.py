"""The catalog a buyer chooses from: organizers, events and their competition classes.

These are immutable values checked on construction (one currency per event, non-negative
prices, a registration window that opens before it closes, a real IANA time zone) plus the few
queries every rule needs: which class has this id, and is registration open at ``now``. An
organizer and an event may carry their own platform fee policy (``fee_policy``); which one
applies is ``pricing.fee_policy_for``'s rule.

What must not live here: prices for a particular buyer (``pricing``), refund decisions, and
anything that loads or stores an event. Catalog data that breaks a structural rule raises
``ValueError`` (it is a data bug); money rules raise the ``MoneyError`` family.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventpay.domain.deadlines import has_passed, has_started, require_aware
from eventpay.domain.errors import (
    CurrencyMismatch,
    DuplicateClass,
    InvalidAmount,
    RegistrationClosed,
    UnknownClass,
)
from eventpay.domain.fee_policy import FeePolicy
from eventpay.domain.money import Money
from eventpay.domain.refund_policy import RefundTerms

MAX_CAPACITY = 1_000_000
"""More places than any car-audio event has: a capacity above it is a typing error."""
DEFAULT_RESERVE_DAYS = 7
"""What an event's orders earned is held this many days after it ends, unless set per event."""
MAX_RESERVE_DAYS = 365


@dataclass(frozen=True, slots=True)
class Organizer:
    """The club or company that runs events and receives their payouts.

    ``fee_policy`` is the platform fee agreed with this organizer, for its events that have
    none of their own; None: the platform's policy.
    """

    id: str
    name: str
    fee_policy: FeePolicy | None = None
    paypal_email: str | None = None  # where PayPal Payouts pay them; None: not by PayPal

    def __post_init__(self) -> None:
        _require_policy(self.fee_policy, f"organizer {self.id!r}")
        if self.paypal_email is not None and not _looks_like_email(self.paypal_email):
            raise ValueError(f"organizer {self.id!r}: paypal_email is not an e-mail address")


@dataclass(frozen=True, slots=True)
class CompetitionClass:
    """One class a competitor can enter at an event (SPL, SQ, ...) and its prices.

    ``additional_class_price`` is what this class costs when entered besides a more expensive
    one; the early-bird price applies strictly before ``early_bird_deadline``. ``capacity``
    is how many competitors can enter it (None: no limit).
    """

    id: str
    code: str
    name: str
    member_price: Money
    non_member_price: Money
    additional_class_price: Money | None = None
    early_bird_price: Money | None = None
    early_bird_deadline: datetime | None = None
    capacity: int | None = None

    def __post_init__(self) -> None:
        if self.capacity is not None and not 0 <= self.capacity <= MAX_CAPACITY:
            raise ValueError(f"class {self.id!r}: capacity must be 0 to {MAX_CAPACITY}")
        currency = self.member_price.currency
        for price in self.prices():
            if price.currency != currency:
                raise CurrencyMismatch(currency, price.currency)
            if price.is_negative():
                raise InvalidAmount(f"class {self.id!r} has a negative price: {price}")
        if (self.early_bird_price is None) != (self.early_bird_deadline is None):
            raise ValueError(
                f"class {self.id!r}: early-bird price and deadline must be given together"
            )
        if self.early_bird_deadline is not None:
            require_aware(self.early_bird_deadline, "early_bird_deadline")

    @property
    def currency(self) -> str:
        return self.member_price.currency

    def prices(self) -> tuple[Money, ...]:
        """Every price this class defines, in field order, skipping absent ones."""
        optional = (self.additional_class_price, self.early_bird_price)
        return (
            self.member_price,
            self.non_member_price,
            *(price for price in optional if price is not None),
        )


class RegistrationWindow(StrEnum):
    """Where ``now`` falls relative to an event's registration window."""

    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"


def window_state(opens_at: datetime, closes_at: datetime, now: datetime) -> RegistrationWindow:
    """Where `now` falls in a registration window that opens and closes at these instants."""
    if not has_started(opens_at, now):
        return RegistrationWindow.NOT_YET_OPEN
    if has_passed(closes_at, now):
        return RegistrationWindow.CLOSED
    return RegistrationWindow.OPEN


@dataclass(frozen=True, slots=True)
class Event:
    """An event with its registration window, its currency and the classes it offers.

    Registration is open on the half-open interval ``[registration_opens_at,
    registration_closes_at)``. ``timezone`` is the event's IANA zone, for display and for
    organizers' local deadlines; every instant stored here is timezone-aware. ``fee_policy``
    is the platform fee agreed for this event; None: its organizer's, else the platform's.
    """

    id: str
    organizer_id: str
    name: str
    timezone: str
    currency: str
    starts_at: datetime
    registration_opens_at: datetime
    registration_closes_at: datetime
    refund_cutoff_at: datetime | None
    classes: tuple[CompetitionClass, ...]
    late_refund_fee_percent: Decimal | None = None
    fee_policy: FeePolicy | None = None
    ends_at: datetime | None = None  # None: a one-day event, over when it starts
    payout_reserve_days: int = DEFAULT_RESERVE_DAYS

    def __post_init__(self) -> None:
        _require_time_zone(self.timezone)
        if self.ends_at is not None:
            require_aware(self.ends_at, "ends_at")
            if self.ends_at < self.starts_at:
                raise ValueError(f"event {self.id!r}: ends_at is before starts_at")
        if not 0 <= self.payout_reserve_days <= MAX_RESERVE_DAYS:
            raise ValueError(
                f"event {self.id!r}: payout_reserve_days must be 0 to {MAX_RESERVE_DAYS}"
            )
        _require_policy(self.fee_policy, f"event {self.id!r}")
        # Money validates and lowercases the code, so "USD" in catalog data is accepted.
        object.__setattr__(self, "currency", Money.zero(self.currency).currency)
        object.__setattr__(self, "classes", tuple(self.classes))
        require_aware(self.starts_at, "starts_at")
        require_aware(self.registration_opens_at, "registration_opens_at")
        require_aware(self.registration_closes_at, "registration_closes_at")
        if self.refund_cutoff_at is not None:
            require_aware(self.refund_cutoff_at, "refund_cutoff_at")
        if self.registration_opens_at >= self.registration_closes_at:
            raise ValueError(f"event {self.id!r}: registration must open before it closes")
        self.refund_terms  # noqa: B018 - checks the terms (fee percent) on construction
        seen: set[str] = set()
        for competition_class in self.classes:
            if competition_class.currency != self.currency:
                raise CurrencyMismatch(self.currency, competition_class.currency)
            if competition_class.id in seen:
                raise DuplicateClass(competition_class.id)
            seen.add(competition_class.id)

    @property
    def refund_terms(self) -> RefundTerms:
        """What a competitor gets back when withdrawing; see ``refund_policy``."""
        return RefundTerms(
            cutoff_at=self.refund_cutoff_at,
            starts_at=self.starts_at,
            late_fee_percent=self.late_refund_fee_percent,
        )

    @property
    def reserve_until(self) -> datetime:
        """Until when what this event's orders earned is held from payouts: N days after it
        ends, so its refunds and chargebacks are still covered."""
        return (self.ends_at or self.starts_at) + timedelta(days=self.payout_reserve_days)

    @property
    def zone(self) -> ZoneInfo:
        """The event's time zone, for rendering its instants in local time."""
        return ZoneInfo(self.timezone)

    def window_state(self, now: datetime) -> RegistrationWindow:
        return window_state(self.registration_opens_at, self.registration_closes_at, now)

    def ensure_open(self, now: datetime) -> None:
        """Raise ``RegistrationClosed`` (with its reason) unless registration is open."""
        state = self.window_state(now)
        if state is RegistrationWindow.NOT_YET_OPEN:
            raise RegistrationClosed("not_yet_open", event_id=self.id)
        if state is RegistrationWindow.CLOSED:
            raise RegistrationClosed("closed", event_id=self.id)

    def class_by_id(self, class_id: str) -> CompetitionClass:
        for competition_class in self.classes:
            if competition_class.id == class_id:
                return competition_class
        raise UnknownClass(class_id)


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and len(value) <= 254 and " " not in value)


def _require_policy(policy: object, owner: str) -> None:
    # Catalog data is built from storage and seed files: a stray dict or percent is a data bug.
    if policy is not None and not isinstance(policy, FeePolicy):
        raise TypeError(f"{owner}: fee_policy must be a FeePolicy or None, got {policy!r}")


def _require_time_zone(name: str) -> None:
    if not isinstance(name, str):
        raise ValueError(f"time zone must be an IANA name, got {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a directory such as "America" is a path under the zone database but no zone.
        raise ValueError(f"unknown IANA time zone: {name!r}") from None
