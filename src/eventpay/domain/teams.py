"""Team registration: an event's team competition terms, a team's name and roster, its price.

An organizer offers a team competition on one class of an event (`TeamTerms`): teams of
``min_members`` to ``max_members`` competitors, charged either one team fee (``TEAM``) or a fee
per member (``PER_MEMBER``). The captain is whoever buys: they are always a member of their
team (``roster`` puts them first when the buyer left them out), and nobody appears twice.

A team's name is shown as its captain typed it (whitespace collapsed) and compared in one form,
``name_key`` (case-folded), so "Bass Heads" and " bass  HEADS " are the same team name at an
event.

What must not live here: whether a name or a member's place is already taken (the places of
``domain.places``, counted by the database) and loading or storing teams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from eventpay.domain.catalog import MAX_CAPACITY
from eventpay.domain.errors import DomainError
from eventpay.domain.money import Money
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.pricing import LineKind, QuoteLine

MAX_TEAM_NAME = 80
MAX_MEMBERS = 50
"""More competitors than any car-audio team fields; a larger team is a typing error."""
MAX_FEE = 10**9
"""Minor units; far beyond any entry fee, within the 64-bit column."""


class FeeMode(StrEnum):
    TEAM = "team"
    PER_MEMBER = "per_member"


class TeamRefused(DomainError):
    """A team or its terms broke a rule; ``code`` says which, ``field`` names the input."""

    def __init__(self, code: str, field: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.extra = extra

    @property
    def details(self) -> dict[str, str]:
        return {"field": self.field, **{key: str(value) for key, value in self.extra.items()}}


def team_stock_id(event_id: str) -> str:
    """The stock item of an event's team slots (one place per team)."""
    return f"team:{event_id}"


def team_name_stock_id(event_id: str) -> str:
    """The stock item whose holders are the event's active team names (``name_key``)."""
    return f"teamname:{event_id}"


@dataclass(frozen=True, slots=True)
class TeamTerms:
    """An event's team competition: the class teams enter, the fee and the team sizes.
    ``capacity`` is the number of team slots (None: no limit)."""

    class_id: str
    fee_mode: FeeMode
    fee: Money
    min_members: int
    max_members: int
    capacity: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fee_mode", _fee_mode(self.fee_mode))
        if not self.class_id:
            raise TeamRefused("invalid_team_terms", "class_id", "class_id is required")
        if not 0 <= self.fee.amount <= MAX_FEE:
            raise TeamRefused("invalid_team_terms", "fee", f"fee must be 0 to {MAX_FEE}")
        _count(self.min_members, "min_members", 1)
        _count(self.max_members, "max_members", 1)
        if self.min_members > self.max_members:
            raise TeamRefused(
                "invalid_team_terms", "max_members", "max_members must be at least min_members"
            )
        if self.capacity is not None:
            _count(self.capacity, "capacity", 0, MAX_CAPACITY)

    def price(
        self, event_id: str, event_name: str, team: str, roster: Sequence[str]
    ) -> tuple[QuoteLine, ...]:
        """The team's lines: the team fee once, or the fee for each member (named)."""
        if self.fee_mode is FeeMode.TEAM:
            return (
                QuoteLine(
                    kind=LineKind.TEAM,
                    description=f"{event_name} — team {team!r} ({len(roster)} members)",
                    amount=self.fee,
                    event_id=event_id,
                    class_id=self.class_id,
                ),
            )
        return tuple(
            QuoteLine(
                kind=LineKind.TEAM,
                description=f"{event_name} — team {team!r}, member {member}",
                amount=self.fee,
                event_id=event_id,
                class_id=self.class_id,
            )
            for member in roster
        )


def _fee_mode(value: str) -> FeeMode:
    try:
        return FeeMode(value)
    except ValueError:
        modes = ", ".join(mode.value for mode in FeeMode)
        raise TeamRefused(
            "invalid_team_terms", "fee_mode", f"fee_mode must be one of: {modes}"
        ) from None


def _count(value: int, field: str, low: int, high: int = MAX_MEMBERS) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TeamRefused(
            "invalid_team_terms", field, f"{field} must be a whole number from {low} to {high}"
        )


def team_name(raw: str) -> str:
    """The name as shown: whitespace collapsed, 1 to 80 characters."""
    name = " ".join(raw.split())
    if not 1 <= len(name) <= MAX_TEAM_NAME:
        raise TeamRefused("invalid_team", "name", f"a team name is 1 to {MAX_TEAM_NAME} characters")
    return name


def name_key(name: str) -> str:
    """The form two team names are compared in: collapsed and case-folded."""
    return " ".join(name.split()).casefold()


def roster(*, captain: str, members: Sequence[str], terms: TeamTerms) -> tuple[str, ...]:
    """The team's members, captain first; a member listed twice or a size outside the terms
    is refused (the captain, who always plays, counts)."""
    seen: set[str] = set()
    for member in members:
        if member in seen:
            raise TeamRefused(
                "duplicate_member", "members", f"{member} is listed twice", member=member
            )
        seen.add(member)
    team = (captain, *(m for m in members if m != captain))
    if not terms.min_members <= len(team) <= terms.max_members:
        raise TeamRefused(
            "invalid_team_size",
            "members",
            f"a team has {terms.min_members} to {terms.max_members} members, captain included;"
            f" this one has {len(team)}",
            size=len(team),
        )
    return team


def team_status(statuses: Sequence[RegistrationStatus]) -> RegistrationStatus:
    """A team is confirmed when every member's registration is, cancelled when every one is,
    and pending otherwise (its order awaits payment, or was partly refunded)."""
    if statuses and all(s is RegistrationStatus.CONFIRMED for s in statuses):
        return RegistrationStatus.CONFIRMED
    if statuses and all(s is RegistrationStatus.CANCELLED for s in statuses):
        return RegistrationStatus.CANCELLED
    return RegistrationStatus.PENDING
