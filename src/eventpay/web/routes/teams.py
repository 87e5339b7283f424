"""Team competitions and teams: an event's terms (set by its organizer or an admin, read by
anyone) and the teams a captain registered.

Only the body's shape is checked here; the rules (sizes, fee, the class being the event's)
are the domain's and the services', and their refusals name the field in `details.field`.
A team is bought as an order item (`{"kind": "team", ...}`, `web.order_items`).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StrictInt

from eventpay.services import teams
from eventpay.services.teams import TeamCompetitionView, TeamSetup, TeamView
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import (
    PUBLIC_BUDGET,
    RATE_LIMITED_RESPONSE,
    READ_BUDGET,
    WRITE_BUDGET,
)
from eventpay.web.schemas import MoneyIn, MoneyOut, Strict

router = APIRouter(tags=["teams"], responses=RATE_LIMITED_RESPONSE)


class TeamSetupIn(Strict):
    class_id: str = Field(min_length=1, max_length=64, description="The class teams enter.")
    fee_mode: str = Field(
        max_length=32, description='"team": one fee per team; "per_member": the fee per member.'
    )
    fee: StrictInt | MoneyIn = Field(
        description="Minor units of the event's currency, or a money object in it (0 allowed)."
    )
    min_members: StrictInt = Field(description="Smallest team, captain included (1 to 50).")
    max_members: StrictInt = Field(description="Largest team, captain included (1 to 50).")
    capacity: StrictInt | None = Field(
        default=None, description="Team slots (one per team); null: no limit."
    )


class TeamCompetitionOut(BaseModel):
    event_id: str
    event_name: str
    class_id: str
    fee_mode: str
    fee: MoneyOut
    min_members: int
    max_members: int
    capacity: int | None = Field(description="Team slots; null: no limit.")
    slots_left: int | None = Field(
        description="Slots neither paid for nor reserved by an unexpired order; null: no limit."
    )
    registration_status: str


class TeamMemberOut(BaseModel):
    competitor_id: str
    registration_id: str
    captain: bool
    status: str = Field(description="The member's registration: pending, confirmed, cancelled.")


class TeamOut(BaseModel):
    id: str
    order_id: str
    event_id: str
    event_name: str
    class_id: str
    name: str
    captain_id: str
    status: str = Field(
        description="confirmed once every member's registration is, cancelled when every one "
        "is, else pending."
    )
    members: list[TeamMemberOut]
    created_at: datetime


def _competition_out(view: TeamCompetitionView, now: datetime) -> TeamCompetitionOut:
    terms = view.terms
    return TeamCompetitionOut(
        event_id=view.event.id,
        event_name=view.event.name,
        class_id=terms.class_id,
        fee_mode=terms.fee_mode.value,
        fee=MoneyOut.of(terms.fee),
        min_members=terms.min_members,
        max_members=terms.max_members,
        capacity=view.capacity,
        slots_left=view.slots_left,
        registration_status=view.event.window_state(now).value,
    )


def _team_out(view: TeamView) -> TeamOut:
    team = view.team
    return TeamOut(
        id=team.id,
        order_id=team.order_id,
        event_id=team.event_id,
        event_name=view.event_name,
        class_id=team.class_id,
        name=team.name,
        captain_id=team.captain_id,
        status=view.status.value,
        members=[
            TeamMemberOut(
                competitor_id=m.competitor_id,
                registration_id=m.registration_id,
                captain=m.competitor_id == team.captain_id,
                status=view.member_status[m.registration_id].value,
            )
            for m in team.members
        ],
        created_at=team.created_at,
    )


@router.put(
    "/v1/events/{event_id}/teams",
    response_model=TeamCompetitionOut,
    dependencies=[WRITE_BUDGET],
)
async def configure_teams(
    event_id: str, body: TeamSetupIn, container: ContainerDep, caller: CallerDep
) -> TeamCompetitionOut:
    """Set the event's team competition (its organizer or an admin; anyone else 404
    `event_not_found`). 422 `invalid_team_terms` or `currency_mismatch` naming the field;
    409 `capacity_below_taken` when fewer slots than teams already entered are asked for."""
    fee, currency = (
        (body.fee.amount, body.fee.currency) if isinstance(body.fee, MoneyIn) else (body.fee, None)
    )
    asked = TeamSetup(
        class_id=body.class_id,
        fee_mode=body.fee_mode,
        fee=fee,
        fee_currency=currency,
        min_members=body.min_members,
        max_members=body.max_members,
        capacity=body.capacity,
    )
    now = container.clock()
    view = await run_in_threadpool(
        lambda: teams.configure_teams(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            asked=asked,
            now=now,
        )
    )
    return _competition_out(view, now)


@router.get(
    "/v1/events/{event_id}/teams",
    response_model=TeamCompetitionOut,
    dependencies=[PUBLIC_BUDGET],
)
def get_team_competition(event_id: str, container: ContainerDep) -> TeamCompetitionOut:
    """The event's team competition with the team slots left; 404 `teams_not_offered`."""
    view = teams.get_team_competition(uow_factory=container.uow_factory, event_id=event_id)
    return _competition_out(view, container.clock())


@router.get("/v1/teams", response_model=list[TeamOut], dependencies=[READ_BUDGET])
def list_my_teams(
    container: ContainerDep, caller: CallerDep, order_id: str | None = None
) -> list[TeamOut]:
    """The teams the caller captains, newest first; `order_id` narrows them to one order."""
    found = teams.list_my_teams(uow_factory=container.uow_factory, caller=caller, order_id=order_id)
    return [_team_out(view) for view in found]


@router.get("/v1/teams/{team_id}", response_model=TeamOut, dependencies=[READ_BUDGET])
def get_team(team_id: str, container: ContainerDep, caller: CallerDep) -> TeamOut:
    """A team with its members' registrations, for its captain (or an admin); anyone else
    404 `team_not_found`."""
    view = teams.get_team(uow_factory=container.uow_factory, caller=caller, team_id=team_id)
    return _team_out(view)
