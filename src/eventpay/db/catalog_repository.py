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

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventpay.db.models import CompetitionClassRow, EventRow, MembershipRow, OrganizerRow
from eventpay.domain import (
    CompetitionClass,
    Event,
    FeePayer,
    FeePolicy,
    Money,
    Organizer,
    Rounding,
)


def _money(amount: int | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount, currency)


def _to_event(row: EventRow, classes: Sequence[CompetitionClassRow]) -> Event:
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

    def list_events(self) -> Sequence[Event]:
        rows = list(self._s.scalars(select(EventRow).order_by(EventRow.starts_at, EventRow.id)))
        classes = self._classes_for([r.id for r in rows])
        return [_to_event(r, classes[r.id]) for r in rows]

    def get_event(self, event_id: str) -> Event | None:
        row = self._s.get(EventRow, event_id)
        if row is None:
            return None
        return _to_event(row, self._classes_for([row.id])[row.id])

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
        self._s.add(
            EventRow(
                id=event.id,
                organizer_id=event.organizer_id,
                name=event.name,
                timezone=event.timezone,
                currency=event.currency,
                starts_at=event.starts_at,
                registration_opens_at=event.registration_opens_at,
                registration_closes_at=event.registration_closes_at,
                refund_cutoff_at=event.refund_cutoff_at,
                late_refund_fee_bps=_basis_points(event.late_refund_fee_percent),
                ends_at=event.ends_at,
                payout_reserve_days=event.payout_reserve_days,
                reserve_until=event.reserve_until,
                created_at=created_at,
                **_fee_columns(event.fee_policy),
            )
        )
        self._s.flush()
        for position, c in enumerate(event.classes):
            self._s.add(
                CompetitionClassRow(
                    id=c.id,
                    event_id=event.id,
                    position=position,
                    code=c.code,
                    name=c.name,
                    member_price=c.member_price.amount,
                    non_member_price=c.non_member_price.amount,
                    additional_class_price=(
                        None
                        if c.additional_class_price is None
                        else c.additional_class_price.amount
                    ),
                    early_bird_price=None
                    if c.early_bird_price is None
                    else c.early_bird_price.amount,
                    early_bird_deadline=c.early_bird_deadline,
                )
            )
        self._s.flush()

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
