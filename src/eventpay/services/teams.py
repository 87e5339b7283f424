"""An event's team competition, set up by its organizer or an admin, and the teams registered.

`configure_teams` stores the terms (`domain.teams.TeamTerms`: the class teams enter, team or
per-member fee, team sizes) and the number of team slots as the stock item "team:<event_id>"
(None: unlimited, still a row), plus the stock item "teamname:<event_id>" whose holders are the
active teams' names. Another organizer's event, and any event for a competitor, answers as an
unknown one (404 `event_not_found`). Each change is audited with the terms before and after.

Teams themselves are created by orders (`basket_teams.price_team`); here they are read back:
by their captain (or an admin), anyone else 404 `team_not_found`, with each member's
registration status.

What must not live here: pricing a team and counting places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventpay.domain import CatalogError, Event, Money
from eventpay.domain.errors import MoneyError
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.teams import (
    FeeMode,
    TeamRefused,
    TeamTerms,
    team_name_stock_id,
    team_status,
    team_stock_id,
)
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.ports.teams import TeamCompetitionRecord, TeamRecord
from eventpay.services.audit import record
from eventpay.services.catalog_edits import load_managed
from eventpay.services.errors import Conflict, InvalidRequest, NotFound


@dataclass(frozen=True, slots=True)
class TeamSetup:
    """What an organizer asks for; `fee` in minor units of `fee_currency` (None: the event's)."""

    class_id: str
    fee_mode: str
    fee: int
    min_members: int
    max_members: int
    capacity: int | None = None
    fee_currency: str | None = None


@dataclass(frozen=True, slots=True)
class TeamCompetitionView:
    event: Event
    terms: TeamTerms
    capacity: int | None
    teams_entered: int
    slots_left: int | None


def _fee_mode(raw: str) -> FeeMode:
    try:
        return FeeMode(raw)
    except ValueError:
        modes = ", ".join(mode.value for mode in FeeMode)
        raise InvalidRequest(
            "invalid_team_terms", f"fee_mode must be one of: {modes}", {"field": "fee_mode"}
        ) from None


def _terms(asked: TeamSetup, event: Event) -> TeamTerms:
    currency = (asked.fee_currency or event.currency).lower()
    if currency != event.currency:
        raise InvalidRequest(
            "currency_mismatch",
            f"fee must be in the event's currency ({event.currency}).",
            {"field": "fee", "currency": currency, "event_currency": event.currency},
        )
    try:
        terms = TeamTerms(
            class_id=asked.class_id,
            fee_mode=_fee_mode(asked.fee_mode),
            fee=Money(asked.fee, currency),
            min_members=asked.min_members,
            max_members=asked.max_members,
            capacity=asked.capacity,
        )
    except TeamRefused as exc:
        raise InvalidRequest(exc.code, str(exc), exc.details) from None
    except MoneyError as exc:
        raise InvalidRequest("invalid_team_terms", str(exc), {"field": "fee"}) from None
    try:
        event.class_by_id(terms.class_id)
    except CatalogError:
        raise InvalidRequest(
            "invalid_team_terms",
            "class_id: the event has no such class.",
            {"field": "class_id", "class_id": terms.class_id},
        ) from None
    return terms


def _snapshot(terms: TeamTerms | None) -> dict[str, Any] | None:
    if terms is None:
        return None
    return {
        "class_id": terms.class_id,
        "fee_mode": terms.fee_mode.value,
        "fee": terms.fee.amount,
        "currency": terms.fee.currency,
        "min_members": terms.min_members,
        "max_members": terms.max_members,
        "capacity": terms.capacity,
    }


def _stored_terms(uow: UnitOfWork, event: Event) -> TeamTerms | None:
    stored = uow.teams.get_competition(event.id)
    if stored is None:
        return None
    level = uow.places.levels([team_stock_id(event.id)]).get(team_stock_id(event.id))
    return TeamTerms(
        class_id=stored.class_id,
        fee_mode=FeeMode(stored.fee_mode),
        fee=Money(stored.fee, event.currency),
        min_members=stored.min_members,
        max_members=stored.max_members,
        capacity=None if level is None else level.capacity,
    )


def _view(uow: UnitOfWork, event: Event, terms: TeamTerms) -> TeamCompetitionView:
    level = uow.places.levels([team_stock_id(event.id)]).get(team_stock_id(event.id))
    taken = 0 if level is None else level.taken
    left = terms.capacity if level is None else level.left
    return TeamCompetitionView(event, terms, terms.capacity, taken, left)


def configure_teams(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    asked: TeamSetup,
    now: datetime,
) -> TeamCompetitionView:
    """Set the event's team terms and slots; 409 `capacity_below_taken` when fewer slots than
    teams already entered (or reserved) are asked for."""
    with uow_factory() as uow:
        event = load_managed(uow, caller, event_id)
        terms = _terms(asked, event)
        before = _stored_terms(uow, event)
        stock_id = team_stock_id(event.id)
        if not uow.places.ensure_stock(
            stock_id, event_id=event.id, kind="team", capacity=terms.capacity
        ):
            taken = uow.places.levels([stock_id])[stock_id].taken
            raise Conflict(
                "capacity_below_taken",
                f"{taken} teams have entered or reserved a slot; capacity {terms.capacity} "
                "would be below that.",
                {"field": "capacity", "capacity": terms.capacity, "taken": taken},
            )
        uow.places.ensure_stock(
            team_name_stock_id(event.id), event_id=event.id, kind="team_name", capacity=None
        )
        uow.teams.put_competition(
            TeamCompetitionRecord(
                event_id=event.id,
                class_id=terms.class_id,
                fee_mode=terms.fee_mode.value,
                fee=terms.fee.amount,
                min_members=terms.min_members,
                max_members=terms.max_members,
                updated_at=now,
                updated_by=caller.user_id,
            )
        )
        record(
            uow,
            entity_type="event",
            entity_id=event.id,
            action="event.teams_configured",
            actor=caller,
            now=now,
            details={"before": _snapshot(before), "after": _snapshot(terms)},
        )
        view = _view(uow, event, terms)
        uow.commit()
    return view


def get_team_competition(*, uow_factory: UnitOfWorkFactory, event_id: str) -> TeamCompetitionView:
    """The event's team terms and slots left, for anyone; 404 `teams_not_offered`."""
    with uow_factory() as uow:
        event = uow.catalog.get_event(event_id)
        if event is None:
            raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
        terms = _stored_terms(uow, event)
        if terms is None:
            raise NotFound(
                "teams_not_offered", "This event has no team competition.", {"event_id": event_id}
            )
        return _view(uow, event, terms)


@dataclass(frozen=True, slots=True)
class TeamView:
    team: TeamRecord
    event_name: str
    status: RegistrationStatus
    member_status: dict[str, RegistrationStatus]  # by registration id


def _team_view(uow: UnitOfWork, team: TeamRecord) -> TeamView:
    order = uow.orders.get(team.order_id)
    statuses = {} if order is None else {r.id: r.status for r in order.registrations}
    member_status = {
        m.registration_id: statuses.get(m.registration_id, RegistrationStatus.CANCELLED)
        for m in team.members
    }
    event = uow.catalog.get_event(team.event_id)
    return TeamView(
        team=team,
        event_name=team.event_id if event is None else event.name,
        status=team_status(list(member_status.values())),
        member_status=member_status,
    )


def get_team(*, uow_factory: UnitOfWorkFactory, caller: Principal, team_id: str) -> TeamView:
    """The team, for its captain or an admin; anyone else 404 `team_not_found`."""
    with uow_factory() as uow:
        team = uow.teams.get_team(team_id)
        if team is None or (caller.role is not Role.ADMIN and team.captain_id != caller.user_id):
            raise NotFound("team_not_found", "No such team.", {"team_id": team_id})
        return _team_view(uow, team)


def list_my_teams(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, order_id: str | None = None
) -> Sequence[TeamView]:
    """The caller's teams as captain, newest first (of one order, when given)."""
    with uow_factory() as uow:
        teams = uow.teams.teams_of_captain(caller.user_id)
        return [_team_view(uow, t) for t in teams if order_id is None or t.order_id == order_id]
