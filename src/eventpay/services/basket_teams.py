"""What a team entry and a series package cost, which places they need and what they register.

Two pricers for `orders.PRICERS` (see `basket` for the contract):

- `price_team`: the buyer is the captain and always a member (`domain.teams.roster`). One
  registration per member in the event's team class, each claiming that member's place in
  the class ("class:<class_id>", holder the member: a member already registered there, or
  reserved by someone else's unpaid order, is refused 409 `already_registered` by
  `settlement.places`), plus one team slot ("team:<event_id>") and the team's name
  ("teamname:<event_id>", holder the case-folded name: one active team per name and event).
  A name already held by another buyer's order, or paid for, is refused here with 409
  `team_name_taken`; two captains racing for one name meet at the places' unique holder, and
  the later gets 409 `already_registered`. The roster is stored with the order (`persist`).
- `price_series`: one registration per event of the series in the classes of the codes asked
  for, each claiming its classes as an entry does; the package price is split over the events
  by `domain.series.allocate_package`, one line per event. Every event's registration window
  must be open now (409 naming the event otherwise): a package is bought whole or not at all.

What must not live here: setting up team competitions and series (`services.teams`,
`services.series`) and counting places.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from eventpay.domain import CatalogError, CompetitionClass, Event, Money
from eventpay.domain.places import PlaceClaim, PlaceStatus, class_stock_id
from eventpay.domain.pricing import LineKind, QuoteLine, unit_price
from eventpay.domain.series import SeriesRefused, SeriesTerms, allocate_package, class_code
from eventpay.domain.teams import (
    FeeMode,
    TeamRefused,
    TeamTerms,
    name_key,
    roster,
    team_name,
    team_name_stock_id,
    team_stock_id,
)
from eventpay.ports import UnitOfWork
from eventpay.ports.teams import (
    SeriesRecord,
    TeamCompetitionRecord,
    TeamMemberRecord,
    TeamRecord,
)
from eventpay.services.basket import (
    Claim,
    NewRegistration,
    PricedItem,
    PricingContext,
    catalog_refusal,
    event_for,
)
from eventpay.services.errors import Conflict, InvalidRequest

# ---------------------------------------------------------------------------- teams


@dataclass(frozen=True, slots=True)
class TeamItem:
    """The buyer enters a team named `name` at `event_id`, captaining `members`."""

    event_id: str
    name: str
    members: tuple[str, ...]


def terms_of(record: TeamCompetitionRecord, currency: str) -> TeamTerms:
    """An event's stored team terms as the domain's (the capacity is the stock item's)."""
    return TeamTerms(
        class_id=record.class_id,
        fee_mode=FeeMode(record.fee_mode),
        fee=Money(record.fee, currency),
        min_members=record.min_members,
        max_members=record.max_members,
    )


def _team_refusal(ctx: PricingContext, exc: TeamRefused) -> InvalidRequest:
    return InvalidRequest(exc.code, str(exc), {"item": ctx.index, **exc.details})


def _team_class(ctx: PricingContext, event: Event, terms: TeamTerms) -> CompetitionClass:
    try:
        return event.class_by_id(terms.class_id)
    except CatalogError:
        raise InvalidRequest(
            "teams_not_offered",
            "This event's team class no longer exists.",
            {"item": ctx.index, "event_id": event.id},
        ) from None


def _refuse_taken_name(ctx: PricingContext, event: Event, name: str, key: str) -> None:
    """409 `team_name_taken` when another buyer's unexpired order holds the name, or a paid one
    does; a name only reserved by this buyer's own unpaid order gives way to the new order."""
    held = ctx.uow.places.active_holder(team_name_stock_id(event.id), key)
    if held is None:
        return
    lapsed = held.expires_at is not None and held.expires_at <= ctx.now
    if held.status is PlaceStatus.HELD and lapsed:
        return  # unpaid and expired: `settlement.places.reserve` sweeps it, then takes the name
    earlier = ctx.uow.orders.get(held.order_id)
    if (
        held.status is PlaceStatus.CONFIRMED
        or earlier is None
        or earlier.buyer_id != ctx.buyer.user_id
    ):
        raise Conflict(
            "team_name_taken",
            f"{event.name} already has a team named {name!r}.",
            {"item": ctx.index, "event_id": event.id, "name": name},
        )


def price_team(ctx: PricingContext, item: TeamItem) -> PricedItem:
    event = event_for(ctx, item.event_id)
    record = ctx.uow.teams.get_competition(event.id)
    stock = [team_stock_id(event.id), team_name_stock_id(event.id)]
    if record is None or len(ctx.uow.places.levels(stock)) != len(stock):
        # No stock rows: terms left behind by an event deleted and created again.
        raise InvalidRequest(
            "teams_not_offered",
            "This event has no team competition.",
            {"item": ctx.index, "event_id": event.id},
        )
    try:
        event.ensure_open(ctx.now)
    except CatalogError as exc:
        raise catalog_refusal(ctx, exc) from None
    terms = terms_of(record, event.currency)
    team_class = _team_class(ctx, event, terms)
    try:
        name = team_name(item.name)
        members = roster(captain=ctx.buyer.user_id, members=item.members, terms=terms)
    except TeamRefused as exc:
        raise _team_refusal(ctx, exc) from None
    key = name_key(name)
    _refuse_taken_name(ctx, event, name, key)
    label = f"{event.name} — {team_class.code}"
    claims = [
        Claim(PlaceClaim(class_stock_id(team_class.id), 1, holder=member), label, index)
        for index, member in enumerate(members)
    ]
    claims.append(Claim(PlaceClaim(team_stock_id(event.id)), f"{event.name} — team slots"))
    claims.append(
        Claim(
            PlaceClaim(team_name_stock_id(event.id), 1, holder=key),
            f"{event.name} — team name {name!r}",
        )
    )
    team_id = str(uuid.uuid4())

    def persist(uow: UnitOfWork, order_id: str, registration_ids: Sequence[str]) -> None:
        uow.teams.add_team(
            TeamRecord(
                id=team_id,
                order_id=order_id,
                event_id=event.id,
                class_id=team_class.id,
                name=name,
                name_key=key,
                captain_id=ctx.buyer.user_id,
                created_at=ctx.now,
                members=tuple(
                    TeamMemberRecord(member, registration_id, position)
                    for position, (member, registration_id) in enumerate(
                        zip(members, registration_ids, strict=True)
                    )
                ),
            )
        )

    return PricedItem(
        event=event,
        lines=terms.price(event.id, event.name, name, members),
        registrations=tuple(
            NewRegistration(event.id, member, (team_class.id,)) for member in members
        ),
        claims=tuple(claims),
        persist=persist,
        audit={"team_id": team_id, "team_name": name, "members": list(members)},
    )


# ---------------------------------------------------------------------------- series


@dataclass(frozen=True, slots=True)
class SeriesItem:
    """The buyer takes series `series_id`'s package for the classes of `class_codes`."""

    series_id: str
    class_codes: tuple[str, ...]


def series_terms(record: SeriesRecord) -> SeriesTerms:
    return SeriesTerms(
        name=record.name,
        event_ids=record.event_ids,
        currency=record.currency,
        prices={code: Money(amount, record.currency) for code, amount in record.prices.items()},
    )


def _classes_for(
    ctx: PricingContext, event: Event, codes: Sequence[str]
) -> tuple[CompetitionClass, ...]:
    by_code = {class_code(c.code): c for c in event.classes}
    out = []
    for code in codes:
        found = by_code.get(code)
        if found is None:
            raise InvalidRequest(
                "series_class_missing",
                f"{event.name} has no {code} class.",
                {"item": ctx.index, "field": "class_codes", "event_id": event.id, "code": code},
            )
        out.append(found)
    return tuple(out)


def price_series(ctx: PricingContext, item: SeriesItem) -> PricedItem:
    record = ctx.uow.teams.get_series(item.series_id)
    if record is None:
        raise InvalidRequest(
            "unknown_series", "No such series.", {"item": ctx.index, "series_id": item.series_id}
        )
    terms = series_terms(record)
    try:
        package = terms.package_price(item.class_codes)
    except SeriesRefused as exc:
        raise InvalidRequest(exc.code, str(exc), {"item": ctx.index, **exc.details}) from None
    codes = tuple(class_code(code) for code in item.class_codes)
    events = [event_for(ctx, event_id) for event_id in terms.event_ids]
    for event in events:
        try:
            event.ensure_open(ctx.now)
        except CatalogError as exc:
            raise catalog_refusal(ctx, exc) from None
        if event.currency != terms.currency:
            raise InvalidRequest(
                "currency_mismatch",
                f"{event.name} is no longer sold in the series' currency.",
                {"item": ctx.index, "event_id": event.id, "currency": event.currency},
            )
    classes = [_classes_for(ctx, event, codes) for event in events]
    standalone = [
        Money(
            sum(
                unit_price(c, is_member=ctx.is_member, now=ctx.now)[0].amount for c in event_classes
            ),
            terms.currency,
        )
        for event_classes in classes
    ]
    shares = allocate_package(package, standalone)
    lines = tuple(
        QuoteLine(
            kind=LineKind.SERIES,
            description=f"{terms.name} — {event.name} ({', '.join(codes)})",
            amount=share,
            event_id=event.id,
            class_id=event_classes[0].id if len(event_classes) == 1 else None,
        )
        for event, event_classes, share in zip(events, classes, shares, strict=True)
    )
    registrations = tuple(
        NewRegistration(event.id, ctx.buyer.user_id, tuple(c.id for c in event_classes))
        for event, event_classes in zip(events, classes, strict=True)
    )
    claims = tuple(
        Claim(
            PlaceClaim(class_stock_id(c.id), 1, holder=ctx.buyer.user_id),
            f"{event.name} — {c.code}",
            index,
        )
        for index, (event, event_classes) in enumerate(zip(events, classes, strict=True))
        for c in event_classes
    )
    return PricedItem(
        event=events[0],
        lines=lines,
        registrations=registrations,
        claims=claims,
        audit={"series_id": record.id, "class_codes": list(codes), "package": package.amount},
    )
