"""Pass types and VIP prices in SQL (`db.pass_models`).

Prices are stored in minor units; the currency is the event's, read with them, so a pass type
comes back as the domain's `PassType` with its `Money`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventpay.db.models import EventRow, RegistrationRow
from eventpay.db.pass_models import PassTypeRow, VipPriceRow
from eventpay.domain import Money
from eventpay.domain.passes import PassType


def _pass_type(row: PassTypeRow, currency: str) -> PassType:
    return PassType(
        id=row.id,
        event_id=row.event_id,
        name=row.name,
        price=Money(row.price, currency),
        days=tuple(date.fromisoformat(day) for day in row.days),
    )


class SqlPassRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add_pass_type(self, pass_type: PassType, *, created_at: datetime, created_by: str) -> None:
        self._s.add(
            PassTypeRow(
                id=pass_type.id,
                event_id=pass_type.event_id,
                name=pass_type.name,
                price=pass_type.price.amount,
                days=[day.isoformat() for day in pass_type.days],
                created_at=created_at,
                created_by=created_by,
            )
        )
        self._s.flush()

    def get_pass_type(self, pass_id: str) -> PassType | None:
        found = self._s.execute(
            select(PassTypeRow, EventRow.currency)
            .join(EventRow, EventRow.id == PassTypeRow.event_id)
            .where(PassTypeRow.id == pass_id)
        ).first()
        return None if found is None else _pass_type(found[0], found[1])

    def pass_types(self, event_id: str) -> Sequence[PassType]:
        rows = self._s.execute(
            select(PassTypeRow, EventRow.currency)
            .join(EventRow, EventRow.id == PassTypeRow.event_id)
            .where(PassTypeRow.event_id == event_id)
            .order_by(PassTypeRow.created_at, PassTypeRow.id)
        )
        return [_pass_type(row, currency) for row, currency in rows]

    def vip_prices(self, event_id: str) -> Mapping[str, Money]:
        rows = self._s.execute(
            select(VipPriceRow, EventRow.currency)
            .join(EventRow, EventRow.id == VipPriceRow.event_id)
            .where(VipPriceRow.event_id == event_id)
        )
        return {row.class_id: Money(row.price, currency) for row, currency in rows}

    def set_vip_prices(
        self, event_id: str, prices: Mapping[str, Money], *, at: datetime, by: str
    ) -> None:
        existing = {
            row.class_id: row
            for row in self._s.scalars(select(VipPriceRow).where(VipPriceRow.event_id == event_id))
        }
        for class_id, row in existing.items():
            if class_id not in prices:
                self._s.delete(row)
        for class_id, price in prices.items():
            row = existing.get(class_id) or VipPriceRow(class_id=class_id, event_id=event_id)
            row.price, row.updated_at, row.updated_by = price.amount, at, by
            self._s.add(row)
        self._s.flush()

    def order_of_registration(self, registration_id: str) -> str | None:
        return self._s.scalar(
            select(RegistrationRow.order_id).where(RegistrationRow.id == registration_id)
        )
