"""Series packages: created by an organizer for their own events (an admin for any), listed
for everyone.

A series names two or more events in one currency and a package price per class code
(`domain.series.SeriesTerms`). Every event must be one the caller manages: an event that is
not (another organizer's, or unknown) answers 404 `event_not_found` naming it, exactly as an
unknown one. Class codes are not checked against the events here (an organizer may add the
class later); an order for a code an event lacks is refused then, naming the event and code.
Creating is audited.

What must not live here: pricing a package (`basket_teams.price_series`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from eventpay.domain import Event, Money
from eventpay.domain.errors import MoneyError
from eventpay.domain.series import SeriesRefused, SeriesTerms, check_event_ids
from eventpay.ports import Principal, UnitOfWork, UnitOfWorkFactory
from eventpay.ports.teams import SeriesRecord
from eventpay.services.audit import record
from eventpay.services.catalog_edits import manages
from eventpay.services.errors import InvalidRequest, NotFound


@dataclass(frozen=True, slots=True)
class SeriesSetup:
    """What an organizer asks for; prices in minor units of `currency` (None: the events')."""

    name: str
    event_ids: tuple[str, ...]
    prices: Mapping[str, int]
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class SeriesView:
    series: SeriesRecord
    events: tuple[Event | None, ...]  # in the series' order; None: since deleted


def _events(uow: UnitOfWork, caller: Principal, event_ids: Sequence[str]) -> list[Event]:
    events = []
    for event_id in event_ids:
        event = uow.catalog.get_event(event_id)
        if event is None or not manages(caller, event.organizer_id):
            raise NotFound(
                "event_not_found", "No such event.", {"event_id": event_id, "field": "event_ids"}
            )
        events.append(event)
    return events


def _terms(asked: SeriesSetup, events: Sequence[Event]) -> SeriesTerms:
    currencies = sorted({event.currency for event in events})
    if len(currencies) > 1:
        raise InvalidRequest(
            "currency_mismatch",
            "event_ids: every event of a series must be in the same currency.",
            {"field": "event_ids", "currencies": currencies},
        )
    currency = currencies[0]
    if asked.currency is not None and asked.currency.lower() != currency:
        raise InvalidRequest(
            "currency_mismatch",
            f"prices must be in the events' currency ({currency}).",
            {"field": "prices", "currency": asked.currency, "event_currency": currency},
        )
    try:
        prices = {code: Money(amount, currency) for code, amount in asked.prices.items()}
        return SeriesTerms(
            name=asked.name, event_ids=asked.event_ids, currency=currency, prices=prices
        )
    except SeriesRefused as exc:
        raise InvalidRequest(exc.code, str(exc), exc.details) from None
    except MoneyError as exc:
        raise InvalidRequest("invalid_series", str(exc), {"field": "prices"}) from None


def create_series(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, asked: SeriesSetup, now: datetime
) -> SeriesView:
    with uow_factory() as uow:
        try:
            check_event_ids(asked.event_ids)
        except SeriesRefused as exc:
            raise InvalidRequest(exc.code, str(exc), exc.details) from None
        events = _events(uow, caller, asked.event_ids)
        terms = _terms(asked, events)
        series = SeriesRecord(
            id=f"series-{uuid.uuid4().hex[:16]}",
            name=terms.name,
            currency=terms.currency,
            event_ids=terms.event_ids,
            prices={code: price.amount for code, price in terms.prices.items()},
            created_at=now,
            created_by=caller.user_id,
        )
        uow.teams.add_series(series)
        record(
            uow,
            entity_type="series",
            entity_id=series.id,
            action="series.created",
            actor=caller,
            now=now,
            details={
                "name": series.name,
                "currency": series.currency,
                "event_ids": list(series.event_ids),
                "prices": dict(series.prices),
            },
        )
        uow.commit()
    return SeriesView(series, tuple(events))


def _view(uow: UnitOfWork, series: SeriesRecord) -> SeriesView:
    return SeriesView(series, tuple(uow.catalog.get_event(e) for e in series.event_ids))


def list_series(*, uow_factory: UnitOfWorkFactory) -> list[SeriesView]:
    with uow_factory() as uow:
        return [_view(uow, s) for s in uow.teams.list_series()]


def get_series(*, uow_factory: UnitOfWorkFactory, series_id: str) -> SeriesView:
    with uow_factory() as uow:
        series = uow.teams.get_series(series_id)
        if series is None:
            raise NotFound("series_not_found", "No such series.", {"series_id": series_id})
        return _view(uow, series)
