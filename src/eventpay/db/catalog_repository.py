"""Catalog persistence: organizers, events with their classes, memberships.

An organizer's or an event's own platform fee policy is stored in four nullable columns (all or
none, the database checks it); a percent that hundredths of a percent cannot hold exactly is
refused on save rather than rounded, as the late refund fee is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from eventpay.db.models import (
    CompetitionClassRow,
    EventRow,
    MembershipRow,
    OrderLineRow,
    OrganizerRow,
    RegistrationRow,
)
from eventpay.db.stock_models import (
    PlaceRow,
    PromoBuyerUseRow,
    PromoCodeRow,
    PromoCodeUseRow,
    StockItemRow,
)
from eventpay.domain import (
    CompetitionClass,
    Event,
    FeePayer,
    FeePolicy,
    Money,
    Organizer,
    Rounding,
)
from eventpay.domain.places import class_stock_id


def _money(amount: int | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount, currency)


def _amount(money: Money | None) -> int | None:
    return None if money is None else money.amount


def _event_columns(event: Event) -> dict[str, Any]:
    """Every column an event's values decide (not its id, creation time or released reserve);
    `reserve_until` follows its end and reserve days on every write."""
    return {
        "organizer_id": event.organizer_id,
        "name": event.name,
        "timezone": event.timezone,
        "currency": event.currency,
        "starts_at": event.starts_at,
        "registration_opens_at": event.registration_opens_at,
        "registration_closes_at": event.registration_closes_at,
        "refund_cutoff_at": event.refund_cutoff_at,
        "late_refund_fee_bps": _basis_points(event.late_refund_fee_percent),
        "ends_at": event.ends_at,
        "payout_reserve_days": event.payout_reserve_days,
        "reserve_until": event.reserve_until,
        **_fee_columns(event.fee_policy),
    }


def _class_columns(c: CompetitionClass) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "member_price": c.member_price.amount,
        "non_member_price": c.non_member_price.amount,
        "additional_class_price": _amount(c.additional_class_price),
        "early_bird_price": _amount(c.early_bird_price),
        "early_bird_deadline": c.early_bird_deadline,
    }


def _to_event(
    row: EventRow, classes: Sequence[CompetitionClassRow], capacities: dict[str, int | None]
) -> Event:
    cur = row.currency
    return Event(
        id=row.id,
        organizer_id=row.organizer_id,
        name=row.name,
        timezone=row.timezone,
        currency=cur,
        starts_at=row.starts_at,
        registration_opens_at=row.registration_opens_at,
        registration_closes_at=row.registration_closes_at,
        refund_cutoff_at=row.refund_cutoff_at,
        late_refund_fee_percent=(
            None if row.late_refund_fee_bps is None else Decimal(row.late_refund_fee_bps) / 100
        ),
        fee_policy=_fee_policy(row),
        ends_at=row.ends_at,
        payout_reserve_days=row.payout_reserve_days,
        classes=tuple(
            CompetitionClass(
                id=c.id,
                code=c.code,
                name=c.name,
                member_price=Money(c.member_price, cur),
                non_member_price=Money(c.non_member_price, cur),
                additional_class_price=_money(c.additional_class_price, cur),
                early_bird_price=_money(c.early_bird_price, cur),
                early_bird_deadline=c.early_bird_deadline,
                capacity=capacities.get(class_stock_id(c.id)),
            )
            for c in sorted(classes, key=lambda c: c.position)
        ),
    )


def _basis_points(percent: Decimal | None, what: str = "late refund fee") -> int | None:
    if percent is None:
        return None
    bps = percent * 100
    if bps != bps.to_integral_value():
        raise ValueError(f"{what} {percent} % has more than two decimals")
    return int(bps)


def _fee_policy(row: OrganizerRow | EventRow) -> FeePolicy | None:
    bps, fixed, payer, rounding = (
        row.fee_percent_bps,
        row.fee_fixed_minor,
        row.fee_payer,
        row.fee_rounding,
    )
    # All four or none: the check constraint `fee_policy_whole` guarantees it.
    if bps is None or fixed is None or payer is None or rounding is None:
        return None
    return FeePolicy(
        percent=Decimal(bps) / 100,
        fixed_minor=fixed,
        rounding=Rounding(rounding),
        payer=FeePayer(payer),
    )


def _fee_columns(policy: FeePolicy | None) -> dict[str, int | str | None]:
    if policy is None:
        return {}
    return {
        "fee_percent_bps": _basis_points(policy.percent, "platform fee"),
        "fee_fixed_minor": policy.fixed_minor,
        "fee_payer": policy.payer.value,
        "fee_rounding": policy.rounding.value,
    }


class SqlCatalogRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _classes_for(self, event_ids: Sequence[str]) -> dict[str, list[CompetitionClassRow]]:
        by_event: dict[str, list[CompetitionClassRow]] = {eid: [] for eid in event_ids}
        if event_ids:
            stmt = select(CompetitionClassRow).where(CompetitionClassRow.event_id.in_(event_ids))
            for row in self._s.scalars(stmt):
                by_event[row.event_id].append(row)
        return by_event

    def _capacities(self, event_ids: Sequence[str]) -> dict[str, int | None]:
        if not event_ids:
            return {}
        stmt = select(StockItemRow.id, StockItemRow.capacity).where(
            StockItemRow.event_id.in_(event_ids)
        )
        return {stock_id: capacity for stock_id, capacity in self._s.execute(stmt)}

    def list_events(self) -> Sequence[Event]:
        rows = list(self._s.scalars(select(EventRow).order_by(EventRow.starts_at, EventRow.id)))
        ids = [r.id for r in rows]
        classes = self._classes_for(ids)
        capacities = self._capacities(ids)
        return [_to_event(r, classes[r.id], capacities) for r in rows]

    def get_event(self, event_id: str) -> Event | None:
        row = self._s.get(EventRow, event_id)
        if row is None:
            return None
        return _to_event(row, self._classes_for([row.id])[row.id], self._capacities([row.id]))

    def get_organizer(self, organizer_id: str) -> Organizer | None:
        row = self._s.get(OrganizerRow, organizer_id)
        if row is None:
            return None
        return Organizer(
            id=row.id, name=row.name, fee_policy=_fee_policy(row), paypal_email=row.paypal_email
        )

    def add_organizer(self, organizer: Organizer, *, created_at: datetime) -> None:
        self._s.add(
            OrganizerRow(
                id=organizer.id,
                name=organizer.name,
                created_at=created_at,
                paypal_email=organizer.paypal_email,
                **_fee_columns(organizer.fee_policy),
            )
        )
        self._s.flush()

    def add_event(self, event: Event, *, created_at: datetime) -> None:
        self._s.add(EventRow(id=event.id, created_at=created_at, **_event_columns(event)))
        self._s.flush()
        for position, c in enumerate(event.classes):
            self._s.add(
                CompetitionClassRow(
                    id=c.id, event_id=event.id, position=position, **_class_columns(c)
                )
            )
            self._s.add(
                StockItemRow(
                    id=class_stock_id(c.id),
                    event_id=event.id,
                    kind="class",
                    capacity=c.capacity,
                    taken=0,
                )
            )
        self._s.flush()

    def update_organizer(self, organizer: Organizer) -> None:
        row = self._s.get(OrganizerRow, organizer.id)
        if row is None:
            raise LookupError(f"no organizer {organizer.id!r}")
        row.name = organizer.name
        row.paypal_email = organizer.paypal_email
        self._s.flush()

    def lock_event(self, event_id: str) -> Event | None:
        stmt = select(EventRow).where(EventRow.id == event_id).with_for_update()
        row = self._s.scalars(stmt).one_or_none()
        if row is None:
            return None
        return _to_event(row, self._classes_for([row.id])[row.id], self._capacities([row.id]))

    def update_event(self, event: Event) -> None:
        row = self._s.get(EventRow, event.id)
        if row is None:
            raise LookupError(f"no event {event.id!r}")
        columns = _event_columns(event)
        if event.fee_policy is None:
            columns.update(fee_percent_bps=None, fee_fixed_minor=None, fee_payer=None)
            columns["fee_rounding"] = None
        for name, value in columns.items():
            setattr(row, name, value)
        stored = {c.id: c for c in self._classes_for([event.id])[event.id]}
        wanted = {c.id for c in event.classes}
        gone = [class_id for class_id in stored if class_id not in wanted]
        if gone:
            self._s.execute(
                delete(StockItemRow).where(StockItemRow.id.in_([class_stock_id(c) for c in gone]))
            )
            self._s.execute(delete(CompetitionClassRow).where(CompetitionClassRow.id.in_(gone)))
        for position, c in enumerate(event.classes):
            class_row = stored.get(c.id)
            if class_row is None:
                self._s.add(
                    CompetitionClassRow(
                        id=c.id, event_id=event.id, position=position, **_class_columns(c)
                    )
                )
                continue
            class_row.position = position
            for name, value in _class_columns(c).items():
                setattr(class_row, name, value)
        self._s.flush()

    def delete_event(self, event_id: str) -> None:
        codes = select(PromoCodeRow.id).where(PromoCodeRow.event_id == event_id)
        self._s.execute(delete(PromoBuyerUseRow).where(PromoBuyerUseRow.promo_code_id.in_(codes)))
        self._s.execute(delete(PromoCodeUseRow).where(PromoCodeUseRow.promo_code_id.in_(codes)))
        self._s.execute(delete(PromoCodeRow).where(PromoCodeRow.event_id == event_id))
        self._s.execute(delete(StockItemRow).where(StockItemRow.event_id == event_id))
        self._s.execute(delete(CompetitionClassRow).where(CompetitionClassRow.event_id == event_id))
        self._s.execute(delete(EventRow).where(EventRow.id == event_id))
        self._s.expire_all()

    def event_has_orders(self, event_id: str) -> bool:
        stock = select(StockItemRow.id).where(StockItemRow.event_id == event_id)
        stmt = select(
            exists().where(OrderLineRow.event_id == event_id)
            | exists().where(RegistrationRow.event_id == event_id)
            | exists().where(PlaceRow.stock_id.in_(stock))
        )
        return bool(self._s.scalar(stmt))

    def taken_class_ids(self, class_ids: Sequence[str]) -> set[str]:
        if not class_ids:
            return set()
        stmt = select(CompetitionClassRow.id).where(CompetitionClassRow.id.in_(class_ids))
        return set(self._s.scalars(stmt))

    def classes_with_orders(self, class_ids: Sequence[str]) -> set[str]:
        if not class_ids:
            return set()
        lines = select(OrderLineRow.class_id).where(OrderLineRow.class_id.in_(class_ids))
        found = {class_id for class_id in self._s.scalars(lines.distinct()) if class_id}
        by_stock = {class_stock_id(c): c for c in class_ids}
        places = select(PlaceRow.stock_id).where(PlaceRow.stock_id.in_(by_stock))
        found |= {by_stock[stock_id] for stock_id in self._s.scalars(places.distinct())}
        return found

    def is_member(self, user_id: str, *, at: datetime) -> bool:
        stmt = (
            select(MembershipRow.id)
            .where(MembershipRow.user_id == user_id)
            .where(MembershipRow.valid_from <= at)
            .where(MembershipRow.valid_until > at)
            .limit(1)
        )
        return self._s.scalar(stmt) is not None

    def add_membership(self, *, user_id: str, valid_from: datetime, valid_until: datetime) -> None:
        self._s.add(
            MembershipRow(
                id=str(uuid.uuid4()),
                user_id=user_id,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
        self._s.flush()
