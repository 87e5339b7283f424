"""Series packages: created by an organizer for their own events (an admin for any), listed
for everyone with their events and package prices.

A package is bought as an order item (`{"kind": "series", "series_id", "class_codes"}`,
`web.order_items`); how its price splits over the events is docs/decisions.md "Series packages".
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StrictInt

from eventpay.domain import Money
from eventpay.services import series
from eventpay.services.series import SeriesSetup, SeriesView
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import PUBLIC_BUDGET, RATE_LIMITED_RESPONSE, WRITE_BUDGET
from eventpay.web.schemas import MoneyOut, Strict

router = APIRouter(tags=["series"], responses=RATE_LIMITED_RESPONSE)


class SeriesIn(Strict):
    name: str = Field(min_length=1, max_length=200, description="1 to 120 characters.")
    event_ids: list[str] = Field(
        max_length=20, description="2 to 20 events, in order, all in one currency."
    )
    prices: dict[str, StrictInt] = Field(
        max_length=20,
        description='Package price per class code, in minor units: {"SPL": 15000}. Buying the '
        "package for a code enters that class at every event of the series.",
    )
    currency: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{3}$", description="Omitted: the events' currency."
    )


class SeriesEventOut(BaseModel):
    id: str
    name: str | None = Field(description="Null: the event was deleted.")
    starts_at: datetime | None
    registration_status: str | None


class SeriesOut(BaseModel):
    id: str
    name: str
    currency: str
    events: list[SeriesEventOut]
    prices: dict[str, MoneyOut] = Field(description="Package price by class code.")
    created_at: datetime


def _out(view: SeriesView, now: datetime) -> SeriesOut:
    s = view.series
    return SeriesOut(
        id=s.id,
        name=s.name,
        currency=s.currency,
        events=[
            SeriesEventOut(
                id=event_id,
                name=None if event is None else event.name,
                starts_at=None if event is None else event.starts_at,
                registration_status=None if event is None else event.window_state(now).value,
            )
            for event_id, event in zip(s.event_ids, view.events, strict=True)
        ],
        prices={code: MoneyOut.of(Money(amount, s.currency)) for code, amount in s.prices.items()},
        created_at=s.created_at,
    )


@router.post("/v1/series", status_code=201, response_model=SeriesOut, dependencies=[WRITE_BUDGET])
async def create_series(body: SeriesIn, container: ContainerDep, caller: CallerDep) -> SeriesOut:
    """Create a series of the caller's events (an admin: anyone's). 404 `event_not_found`
    naming an event the caller does not run; 422 `invalid_series` or `currency_mismatch`
    naming the field in `details.field`."""
    asked = SeriesSetup(
        name=body.name,
        event_ids=tuple(body.event_ids),
        prices=dict(body.prices),
        currency=body.currency,
    )
    now = container.clock()
    view = await run_in_threadpool(
        lambda: series.create_series(
            uow_factory=container.uow_factory, caller=caller, asked=asked, now=now
        )
    )
    return _out(view, now)


@router.get("/v1/series", response_model=list[SeriesOut], dependencies=[PUBLIC_BUDGET])
def list_series(container: ContainerDep) -> list[SeriesOut]:
    """Every series package, oldest first."""
    now = container.clock()
    return [_out(view, now) for view in series.list_series(uow_factory=container.uow_factory)]


@router.get("/v1/series/{series_id}", response_model=SeriesOut, dependencies=[PUBLIC_BUDGET])
def get_series(series_id: str, container: ContainerDep) -> SeriesOut:
    """One series package; 404 `series_not_found`."""
    view = series.get_series(uow_factory=container.uow_factory, series_id=series_id)
    return _out(view, container.clock())
